#!/usr/bin/python3
"""Opens a page of `advocate serve` in real headless Chromium (Debian's chromium-driver + python3-selenium) and
prints, as JSON, what a person would see: each section's visible text, the rendered size of every chart bar, and
whether anything overflows the window. Saves a screenshot.

usage: page_check.py URL SCREENSHOT [--bearer TOKEN] [--width W]
"""
import argparse
import json
import sys

from browser import headless_chrome
from selenium.webdriver.common.by import By


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("screenshot")
    parser.add_argument("--bearer")
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    driver = headless_chrome(window="%d,1700" % args.width)
    try:
        if args.bearer:
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                                   {"headers": {"Authorization": "Bearer " + args.bearer}})
        driver.get(args.url)
        sections = {}
        for section in driver.find_elements(By.CSS_SELECTOR, "section[id]"):
            bars = []
            for rect in section.find_elements(By.CSS_SELECTOR, "rect.bar-human, rect.bar-raw"):
                box = rect.rect
                bars.append({
                    "class": rect.get_attribute("class"),
                    "title": driver.execute_script(
                        "return arguments[0].querySelector('title')?.textContent ?? ''", rect),
                    "height": round(box["height"], 1), "width": round(box["width"], 1),
                    "visible": rect.is_displayed(),
                })
            sections[section.get_attribute("id")] = {
                "text": section.text, "visible": section.is_displayed(), "bars": bars,
            }
        result = {
            "title": driver.title,
            "sections": sections,
            "overflowsWidth": driver.execute_script(
                "return document.documentElement.scrollWidth > window.innerWidth"),
        }
        driver.save_screenshot(args.screenshot)
        json.dump(result, sys.stdout, ensure_ascii=False)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
