// The page's Content-Security-Policy allows no inline style: only stylesheets of this origin, and
// <style> elements carrying this response's nonce (aict/security.py). xterm.js's DOM renderer keeps
// its theme colours and cell sizes in <style> elements it creates itself; give every <style>
// element this page's scripts create the nonce, so they apply. It also sets a colour the palette
// does not hold (24-bit "truecolor" output, contrast fixes) as a style attribute, which the policy
// blocks (that text showed in the default colour): a style attribute set from script goes through
// the element's CSSOM instead, which the policy allows and which means the same. Import this module first.

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

const setAttribute = Element.prototype.setAttribute;
Element.prototype.setAttribute = function (name, value) {
  if (typeof name === "string" && name.toLowerCase() === "style" && this.style) {
    this.style.cssText = String(value);
    return;
  }
  setAttribute.call(this, name, value);
};
