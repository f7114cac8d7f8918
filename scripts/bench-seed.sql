-- Seeds the load benchmark's database (scripts/bench-http.sh): :customers customers with
-- realistic names, e-mail addresses and phone numbers, :invoices invoices spread over them and
-- :events activity events. Set-based INSERT … SELECT from generate_series: PostgreSQL makes the
-- rows itself, as fast as COPY and without a file. The activity events copy the `action` and
-- `changes` of real events the API recorded for the first customer (made before seeding), so
-- they read back exactly as the API's own.
\set ON_ERROR_STOP on
-- A bulk import: the trigram indexes take the rows through their pending lists (merged by the
-- VACUUM at the end) instead of one by one; their own setting is restored afterwards.
CREATE TEMP TABLE trigram_indexes AS
SELECT oid::regclass AS index, coalesce('fastupdate=off' = ANY (reloptions), false) AS direct
FROM pg_class WHERE relname LIKE 'customers\_%\_trgm\_idx';
SELECT format('ALTER INDEX %s SET (fastupdate = on)', index) FROM trigram_indexes \gexec
BEGIN;

CREATE TEMP TABLE first_names (i int, name text) ON COMMIT DROP;
INSERT INTO first_names
SELECT row_number() OVER () - 1, n FROM unnest(string_to_array(
  'Olivia,Liam,Emma,Noah,Amelia,Oliver,Ava,Elijah,Sophia,Lucas,Isabella,Mateo,Mia,Levi,Charlotte,'
  'Ethan,Harper,James,Evelyn,Aiden,Luna,Benjamin,Camila,Sebastian,Gianna,Jack,Elizabeth,Henry,'
  'Eleanor,Alexander,Ella,William,Abigail,Daniel,Sofia,Michael,Avery,Samuel,Scarlett,Leo,Emily,'
  'Owen,Aria,Jackson,Penelope,Asher,Chloe,Luca,Layla,Ezra,Mila,Julian,Nora,Hudson,Hazel,Grayson,'
  'Madison,Carter,Ellie,Maverick,Lily,Wyatt,Nova,Ali,Isla,Ingrid,Grace,Jose,Violet,Mohammed,Aurora,'
  'Yusuf,Riley,Chen,Zoey,Hiroshi,Willow,Priya,Emilia,Ravi,Stella,Fatima,Zoe,Kwame,Victoria,Ngozi,'
  'Hannah,Björn,Addison,Siobhán,Leah,Zoë,Lucy,Dmitri,Eliana,Anaïs,Ivy,Tomás,Everly,Łukasz,Paisley',
  ',')) AS n;
CREATE TEMP TABLE last_names (i int, name text) ON COMMIT DROP;
INSERT INTO last_names
SELECT row_number() OVER () - 1, n FROM unnest(string_to_array(
  'Smith,Johnson,Williams,Brown,Jones,Garcia,Miller,Davis,Rodriguez,Martinez,Hernandez,Lopez,'
  'Gonzalez,Wilson,Anderson,Thomas,Taylor,Moore,Jackson,Martin,Lee,Perez,Thompson,White,Harris,'
  'Sanchez,Clark,Ramirez,Lewis,Robinson,Walker,Young,Allen,King,Wright,Scott,Torres,Nguyen,Hill,'
  'Flores,Green,Adams,Nelson,Baker,Hall,Rivera,Campbell,Mitchell,Carter,Roberts,Müller,Schmidt,'
  'Schneider,Fischer,Weber,Meyer,Wagner,Becker,Schulz,Hoffmann,Kowalski,Nowak,Wiśniewski,'
  'Wójcik,Kowalczyk,Kamiński,Rossi,Russo,Ferrari,Esposito,Bianchi,Romano,Colombo,Ricci,Dubois,'
  'Lefèvre,Moreau,Laurent,Fontaine,Okafor,Mensah,Okonkwo,Tanaka,Suzuki,Takahashi,Watanabe,'
  'Yamamoto,Kim,Park,Choi,Singh,Patel,Sharma,Gupta,Mackenzie,O''Brien,Fitzgerald,Van der Berg,'
  'Andersson,Johansson,Karlsson,Nielsen,Jensen,Hansen,Popescu,Ionescu,Horváth,Novák,Petrović',
  ',')) AS n;

-- Surnames as they spread in real life: a fifth of the customers share the common ones
-- above (each about 0.2 % of all), the rest have one of 1,600 rarer ones.
INSERT INTO last_names
SELECT (SELECT count(*) FROM last_names) + row_number() OVER () - 1, p || s
FROM unnest(string_to_array('Al,Bar,Ber,Bran,Cal,Dal,Del,Ed,Far,Gal,Gar,Hal,Har,Hol,Iver,Jar,'
  'Kal,Kel,Lan,Lind,Mal,Mar,Mer,Nor,Old,Pen,Quin,Ral,Ros,Sal,Sel,Stan,Tal,Ther,Ul,Val,Wal,Wes,'
  'Yar,Zel', ',')) AS p,
     unnest(string_to_array('bach,berg,bourne,brook,by,combe,dale,den,dorf,field,ford,gate,ham,'
  'hart,holm,hurst,ing,kirk,land,ley,low,man,mark,mere,more,ner,quist,rick,ridge,sen,shaw,stad,'
  'stead,stone,strom,ton,vik,wald,well,wick', ',')) AS s;

-- Customers: "First Last", some with a middle initial; most with an e-mail address and a
-- phone number, some with WhatsApp; the last one in twenty archived (so that the active
-- ones, which the benchmark picks from, have consecutive ids).
INSERT INTO customers (name, email, phone, whatsapp, timezone, notes, created_at, archived_at)
SELECT
  f.name || CASE WHEN g % 7 = 0 THEN ' ' || chr(65 + (g * 13) % 26) || '. ' ELSE ' ' END || l.name,
  CASE WHEN g % 5 <> 0 THEN
    regexp_replace(lower(translate(f.name || '.' || l.name,
      'äëïöüéèàáóíúñçøåšśłźżćńąęőűÖÜÉŁŚ', 'aeioueeaaoiuncoasslzzcnaeouOUELS')), '[^a-z.]', '', 'g')
      || g || '@example.com'
  END,
  CASE WHEN g % 10 <> 0 THEN '+1' || (2000000000 + (hashint8(g) & 2147483647) % 7999999999)::text END,
  CASE WHEN g % 3 = 0 THEN '+44' || (7000000000 + (hashint8(-g) & 2147483647) % 999999999)::text END,
  (ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Europe/London'])[1 + g % 5],
  CASE WHEN g % 4 = 0 THEN 'Prefers calls in the morning. Pays by bank transfer.' ELSE '' END,
  now() - (g % 1000) * interval '1 day' - (g % 86400) * interval '1 second',
  CASE WHEN g > :customers * 0.95 THEN now() - (g % 100) * interval '1 day' END
FROM generate_series(1, :customers) AS g
JOIN first_names f ON f.i = (hashint8(g * 31) & 2147483647) % (SELECT count(*) FROM first_names)
JOIN last_names l ON l.i = CASE WHEN g % 5 = 0 THEN (hashint8(g * 17) & 2147483647) % 110
                              ELSE 110 + (hashint8(g * 17) & 2147483647) % 1600 END
ORDER BY g; -- ids in the order of g

CREATE TEMP TABLE seeded ON COMMIT DROP AS
SELECT min(id) AS first_id, max(id) AS last_id FROM customers;

-- Invoices, spread over the customers; their receipts are not in the store (the benchmark
-- lists invoices, it does not download them). The live-event trigger is off while seeding:
-- 200,000 events nobody listens to would only slow the seed.
ALTER TABLE invoices DISABLE TRIGGER invoices_live_event;
INSERT INTO invoices (customer_id, number, amount_minor, currency, issued_on, notes,
                      receipt_key, receipt_sha256, receipt_size, receipt_pages,
                      receipt_original_name, receipt_original_type, created_at)
SELECT
  s.first_id + (hashint8(g * 7) & 2147483647) % (s.last_id - s.first_id + 1),
  '2026-' || lpad(g::text, 6, '0'),
  1000 + (hashint8(g) & 2147483647) % 500000,
  (ARRAY['EUR', 'USD', 'GBP'])[1 + g % 3],
  current_date - (g % 1500),
  '',
  'bench/' || g || '.pdf',
  sha256(g::text::bytea),
  48213,
  1,
  'receipt-' || g || '.jpg',
  'image/jpeg',
  now() - (g % 1500) * interval '1 day'
FROM generate_series(1, :invoices) AS g, seeded s;
ALTER TABLE invoices ENABLE TRIGGER invoices_live_event;

-- Activity: the API's own events of the first customer, repeated over every customer.
CREATE TEMP TABLE templates ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) - 1 AS i, actor_user_id, action, changes
FROM audit_events WHERE customer_id = (SELECT first_id FROM seeded);
INSERT INTO audit_events (actor_user_id, action, entity_type, entity_id, customer_id, changes, created_at)
SELECT t.actor_user_id, t.action, 'customer', c.id, c.id, t.changes,
       now() - (g % 100000) * interval '5 minutes'
FROM generate_series(1, :events) AS g
CROSS JOIN seeded s
CROSS JOIN LATERAL (SELECT s.first_id + (hashint8(g * 11) & 2147483647) % (s.last_id - s.first_id + 1) AS id) c
JOIN templates t ON t.i = g % (SELECT count(*) FROM templates);

COMMIT;
VACUUM ANALYZE customers;
SELECT format('ALTER INDEX %s SET (fastupdate = off)', index) FROM trigram_indexes WHERE direct \gexec
VACUUM ANALYZE invoices;
VACUUM ANALYZE audit_events;
