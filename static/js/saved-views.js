/* "Copy link" on the saved views page: copies the link of the box next to the button, and says so on the
 * button for a moment. Without the clipboard API (an address that is not https) the link is selected instead,
 * for the person to copy; the box is readonly and always shows the whole link either way. */
(function () {
  "use strict";

  document.querySelectorAll("button[data-copy-link]").forEach(function (button) {
    var box = document.getElementById(button.getAttribute("data-copy-link"));
    if (!box) {
      return;
    }
    var label = button.textContent;
    button.addEventListener("click", function () {
      box.focus();
      box.select();
      var done = function () {
        button.textContent = button.getAttribute("data-copied-label");
        window.setTimeout(function () {
          button.textContent = label;
        }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(box.value).then(done, function () {});
      } else if (document.execCommand && document.execCommand("copy")) {
        done();
      }
    });
  });
})();
