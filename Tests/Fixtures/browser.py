"""The headless Chromium every page test drives (Debian's chromium and chromium-driver through python3-selenium)."""
from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def headless_chrome(*flags, window="900,1200"):
    """A headless Chromium; `flags` are added to the usual ones."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--window-size=" + window) + flags:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    return driver


# WCAG colour arithmetic for scripts run in the page: rgb("rgb(1, 2, 3)"), relative luminance, and the first
# opaque background behind an element.
COLOR_HELPERS = r"""
function rgb(text) { const m = text.match(/[\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 1]; }
function luminance(c) {
  const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}
function background(element) {
  for (let e = element; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length < 4 || c[3] > 0) return c;
  }
  return [255, 255, 255, 1];
}
"""



def submit(driver, button, timeout=45):
    """Presses a button that loads a new page and waits until that page has replaced this one and finished loading
    (a mark left on the old page's window is gone), so no later check reads the page that was there before."""
    from selenium.webdriver.support.ui import WebDriverWait
    driver.execute_script("window.__advocateOldPage = true;")
    button.click()

    def loaded(driver):
        try:
            return driver.execute_script(
                "return window.__advocateOldPage === undefined && document.readyState === 'complete';")
        except Exception:
            return False  # between two pages

    WebDriverWait(driver, timeout).until(loaded)
