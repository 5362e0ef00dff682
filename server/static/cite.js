// The "Cite" box: a button beside each citation text that copies it. Without JavaScript the text is
// there to select; the buttons exist only where the clipboard can be written.
(function () {
  "use strict";
  if (!navigator.clipboard) {
    return;
  }
  document.querySelectorAll("pre.cite-text").forEach(function (text) {
    var button = document.createElement("button");
    var label = "Copy " + (text.getAttribute("data-copy-label") || "text");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = label;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(text.textContent).then(function () {
        button.textContent = "Copied";
      }, function () {
        button.textContent = "Select the text to copy it";
      });
      window.setTimeout(function () { button.textContent = label; }, 2500);
    });
    text.parentNode.insertBefore(button, text);
  });
}());
