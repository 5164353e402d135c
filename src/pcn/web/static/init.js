// Start the NHS.UK frontend components (header menu, details...) once the module has loaded.
import { initAll } from "/static/nhsuk/nhsuk-frontend.min.js";
initAll();
