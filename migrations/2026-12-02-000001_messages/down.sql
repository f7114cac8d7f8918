DROP TABLE webhook_deliveries;
DROP TABLE message_templates;
DROP TABLE messages;
