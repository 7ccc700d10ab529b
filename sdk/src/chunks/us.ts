// Entry of dist/nexaguard-us.js: what `us` and `notice_only` regions need
// beyond the SDK: the notice bar and the US opt-out panel, and the GPP
// encoder of the US sections (a TCF region's GPP string is its TC string
// behind a fixed header, which the SDK writes itself).
import { registerChunk } from "../chunk";
import { usCategories } from "../consent-mode";
import { encodeGpp, usSections } from "../gpp/encode";
import { showNotice, showOptOut } from "../us/ui";

registerChunk(window, "us", { encodeGpp, usSections, usCategories, showNotice, showOptOut });
