#!/usr/bin/python3
"""Opens digest HTML files in real headless Chromium as a phone (375 px) and a desktop (800 px), in light and dark
mode, and prints what a reader would see: where the first share button starts, how big the buttons are, whether
the button text is readable on its background, and whether anything is wider than the screen. Saves screenshots.

usage: digest_layout.py ARTIFACTS NAME=FILE.html...
"""
import json
import os
import sys

from browser import COLOR_HELPERS, headless_chrome

MEASURE = COLOR_HELPERS + r"""
const buttons = [...document.querySelectorAll('a.adv-button')].map(a => {
  const box = a.closest('td').getBoundingClientRect();
  const [l1, l2] = [luminance(rgb(getComputedStyle(a).color)), luminance(background(a))].sort((x, y) => y - x);
  return {top: box.top + window.scrollY, height: box.height, width: box.width, contrast: (l1 + 0.05) / (l2 + 0.05),
          label: a.textContent.trim()};
});
return {buttons: buttons, overflow: document.documentElement.scrollWidth > window.innerWidth,
        width: window.innerWidth, bodyBackground: getComputedStyle(document.body).backgroundColor};
"""


def main():
    artifacts = sys.argv[1]
    os.makedirs(artifacts, exist_ok=True)
    driver = headless_chrome()
    results = {}
    try:
        for pair in sys.argv[2:]:
            name, path = pair.split("=", 1)
            for width in (375, 800):
                for scheme in ("light", "dark"):
                    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                        "width": width, "height": 1600, "deviceScaleFactor": 1, "mobile": width < 600})
                    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
                        "features": [{"name": "prefers-color-scheme", "value": scheme}]})
                    driver.get("file://" + os.path.abspath(path))
                    key = "%s-%d-%s" % (name, width, scheme)
                    results[key] = driver.execute_script(MEASURE)
                    driver.save_screenshot(os.path.join(artifacts, "digest-%s.png" % key))
    finally:
        driver.quit()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
