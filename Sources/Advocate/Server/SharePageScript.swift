/// The one script of the share page, allowed by its hash in the page's Content-Security-Policy: it copies the text
/// (Clipboard API, with the old copy command as a fallback), reports the press, and opens the network's dialog. The
/// page works without it: the text can be selected by hand and a plain link opens the dialog.
enum SharePageScript {
    static let source = """
        (function () {
          var button = document.getElementById('copy-open');
          var text = document.getElementById('text');
          button.addEventListener('click', function () {
            try { navigator.sendBeacon(button.dataset.pressed, ''); } catch (e) {}
            var open = function () {
              document.getElementById('copied').hidden = false;
              setTimeout(function () { window.location.href = button.dataset.url; }, 400);
            };
            var fallback = function () { text.select(); try { document.execCommand('copy'); } catch (e) {} open(); };
            if (navigator.clipboard && navigator.clipboard.writeText) {
              navigator.clipboard.writeText(text.value).then(open, fallback);
            } else {
              fallback();
            }
          });
        })();
        """
}
