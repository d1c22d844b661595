#!/usr/bin/python3
"""Presses the copy-and-open button of a share page in real headless Chromium (375 px) and reports what happened:
the text the clipboard holds, and the address the browser then went to. Other hosts are made unresolvable, so the
network's dialog is checked, never fetched.

usage: share_page.py BASE_URL PATH SCREENSHOT
"""
import json
import sys
import time

from browser import headless_chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def main():
    base, path, screenshot = sys.argv[1:4]
    driver = headless_chrome("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
    report = {}
    try:
        driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True})
        driver.get(base + path)
        report["title"] = driver.find_element(By.TAG_NAME, "h1").text
        report["text"] = driver.find_element(By.ID, "text").get_attribute("value")
        report["plainLink"] = driver.find_element(By.ID, "open").get_attribute("href")
        report["labelled"] = driver.execute_script(
            "return document.getElementById('text').labels.length > 0")
        report["overflow"] = driver.execute_script(
            "return document.documentElement.scrollWidth > window.innerWidth")
        box = driver.find_element(By.ID, "copy-open").rect
        report["buttonHeight"] = box["height"]
        driver.save_screenshot(screenshot)
        # The person edits the text in their own words, then presses the button.
        area = driver.find_element(By.ID, "text")
        area.send_keys(" Mijn eigen woorden.")
        driver.find_element(By.ID, "copy-open").click()
        WebDriverWait(driver, 20).until(lambda d: not d.current_url.startswith(base))
        report["navigatedTo"] = driver.current_url
        driver.back()
        WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(base))
        report["clipboard"] = driver.execute_async_script(
            "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('ERROR ' + e));")
    finally:
        driver.quit()
    json.dump(report, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
