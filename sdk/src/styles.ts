// The UI's stylesheet, inside the shadow root. Colours are CSS custom
// properties on :host, so a page may override them on #nexaguard-host.

/** The banner's colours, computed by the server (crates/consent/src/theme.rs): readable text guaranteed. */
export interface Theme {
  primary: string;
  background: string;
  text: string;
  onPrimary: string;
}

export function css(t: Theme): string {
  return (
    ":host{all:initial;--nexaguard-primary:" +
    t.primary +
    ";--nexaguard-background:" +
    t.background +
    ";--nexaguard-text:" +
    t.text +
    ";--nexaguard-on-primary:" +
    t.onPrimary +
    "}" +
    ".ng{font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--nexaguard-text);background:var(--nexaguard-background);position:fixed;box-sizing:border-box;max-height:85vh;overflow:auto;padding:20px;box-shadow:0 2px 24px rgba(0,0,0,.35);text-align:start}" +
    ".ng *{box-sizing:border-box}" +
    ".bar{left:0;right:0;bottom:0}" +
    ".bar>div{max-width:1100px;margin:0 auto}" +
    ".nt{padding:12px 20px}" +
    ".box{inset-inline-end:16px;bottom:16px;width:calc(100% - 32px);max-width:440px;border-radius:10px}" +
    ".modal{top:50%;left:50%;transform:translate(-50%,-50%);width:calc(100% - 32px);max-width:640px;border-radius:10px}" +
    ".pref{display:flex;flex-direction:column;padding:0;max-width:720px;max-height:90vh}" +
    ".ph{padding:20px 20px 4px;padding-inline-end:64px}" +
    ".pb{overflow:auto;padding:0 20px 12px;flex:1 1 auto}" +
    ".pf{padding:4px 20px 16px;border-top:1px solid rgba(127,127,127,.35)}" +
    ".dim{position:fixed;top:0;right:0;bottom:0;left:0;background:rgba(0,0,0,.5)}" +
    "h2{font-size:1.25em;line-height:1.3;margin:0 0 .5em}" +
    "h3{font-size:1.05em;margin:1.1em 0 .3em}" +
    "p,ul{margin:0 0 .6em}" +
    "ul{padding-inline-start:1.2em}" +
    ".act{display:flex;flex-wrap:wrap;gap:8px;margin-top:12px}" +
    "button{font:inherit;font-weight:600;line-height:1.2;cursor:pointer;margin:0;min-height:44px;padding:.6em 1.2em;border-radius:6px;border:2px solid var(--nexaguard-primary);background:var(--nexaguard-primary);color:var(--nexaguard-on-primary);flex:1 1 11em}" +
    "button.sec{background:transparent;color:var(--nexaguard-text);border-color:currentColor}" +
    ":focus-visible{outline:3px solid var(--nexaguard-text);outline-offset:2px}" +
    "button:focus-visible{outline-offset:3px}" +
    "a{color:inherit;text-decoration:underline}" +
    ".it{border-top:1px solid rgba(127,127,127,.35);padding:.5em 0;display:flex;flex-wrap:wrap;gap:.3em 1em;justify-content:space-between;align-items:flex-start}" +
    ".it>details,.it>span{flex:1 1 15em}" +
    "summary{cursor:pointer;font-weight:600;padding:.15em 0}" +
    "details>:not(summary){margin:.3em 0;margin-inline-start:1.1em}" +
    ".ctl{display:flex;flex-wrap:wrap;gap:.2em 1em}" +
    "label{display:inline-flex;align-items:center;gap:.45em;cursor:pointer;min-height:32px}" +
    "select{font:inherit;color:inherit;background:var(--nexaguard-background);border:1px solid currentColor;border-radius:6px;min-height:32px;margin-bottom:.5em}" +
    "input{width:1.2em;height:1.2em;margin:0;accent-color:var(--nexaguard-primary)}" +
    ".sm{font-size:.92em}" +
    ".x{position:absolute;top:12px;inset-inline-end:12px;flex:none;width:44px;padding:0;background:transparent;border-color:transparent;color:var(--nexaguard-text);font-size:1.6em;font-weight:400}" +
    ".fab{position:fixed;inset-inline-start:16px;bottom:16px;flex:none;width:48px;height:48px;padding:0;border-radius:50%;display:flex;align-items:center;justify-content:center;box-shadow:0 2px 8px rgba(0,0,0,.3)}" +
    ".fab svg{width:26px;height:26px;fill:currentColor}" +
    "@media (max-width:600px){.ng{padding:16px}.pref{padding:0}button{flex-basis:100%}}" +
    "@media (forced-colors:active){.ng{border:2px solid CanvasText}}"
  );
}
