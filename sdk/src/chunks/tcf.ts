// Entry of dist/nexaguard-tcf.js: the TCF code (TC strings and the
// __tcfapi CMP API, with the IAB libraries), loaded only in TCF regions.
import { registerChunk } from "../chunk";
import { Cmp, decodeTc, TcEncoder } from "../tcf";

registerChunk(window, "tcf", { TcEncoder, Cmp, decodeTc });
