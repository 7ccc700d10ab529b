// Entry of dist/nexaguard.js.
import { boot } from "./sdk";

boot(window, document);
