// The page's Content-Security-Policy allows no inline style: only stylesheets of this origin, and
// <style> elements carrying this response's nonce (aict/security.py). xterm.js's DOM renderer keeps
// its theme colours and cell sizes in <style> elements it creates itself; give every <style>
// element this page's scripts create the nonce, so they apply. Import this module first.

const meta = document.querySelector('meta[name="aict-style-nonce"]');
const nonce = meta ? meta.content : "";
if (meta) meta.remove(); // the nonce now lives only here

if (nonce) {
  const createElement = Document.prototype.createElement;
  Document.prototype.createElement = function (tagName, options) {
    const element = createElement.call(this, tagName, options);
    if (String(tagName).toLowerCase() === "style") element.nonce = nonce;
    return element;
  };
}
