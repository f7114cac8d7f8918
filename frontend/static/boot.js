// Loads the WebAssembly app; its `main` mounts it into <body>.
import init from "/pkg/crm_frontend.js";

init().catch((error) => {
  document.body.textContent = "Customer Manager could not start: " + error;
});
