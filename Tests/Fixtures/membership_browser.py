#!/usr/bin/python3
"""Drives the join form and the preferences page of a running `advocate serve` in real headless Chromium
(Debian's chromium-driver + python3-selenium), the way a colleague on a 375 px phone would, in one language:

  join form -> "check your inbox" -> confirmation mail (read from the SMTP test server's folder) -> confirm page ->
  confirm button -> welcome mail -> preferences page -> change choices -> saved.

On every form page it checks accessibility: every field has a label, text contrast meets WCAG AA, the keyboard
reaches the fields in reading order, nothing is wider than the screen, and buttons are at least 44 px tall.
Prints one JSON object with what it saw; screenshots go to the artifacts folder.

usage: membership_browser.py BASE_URL PUBLIC_BASE MAIL_DIR ARTIFACTS LANG EMAIL PAUSE_UNTIL
"""
import email
import glob
import json
import os
import sys
import time
from email import policy

from browser import COLOR_HELPERS, headless_chrome, submit
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

AUDIT = COLOR_HELPERS + r"""
const problems = [];
const fields = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')];
for (const field of fields) {
  const labelled = (field.labels && field.labels.length > 0) || field.getAttribute('aria-label');
  if (!labelled) problems.push('no label: ' + (field.name || field.id));
}
for (const set of document.querySelectorAll('fieldset')) {
  if (!set.querySelector('legend')) problems.push('fieldset without legend');
}
for (const element of document.querySelectorAll('h1, h2, p, label, legend, button, a, input')) {
  if (!element.offsetParent && element.tagName !== 'BODY') continue;
  const style = getComputedStyle(element);
  const fg = rgb(style.color), bg = background(element);
  const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
  const ratio = (l1 + 0.05) / (l2 + 0.05);
  const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
  const needed = (size >= 24 || (size >= 18.66 && bold)) ? 3 : 4.5;
  if (ratio < needed) problems.push('contrast ' + ratio.toFixed(2) + ' < ' + needed + ': ' + element.tagName + ' ' + (element.textContent || '').trim().slice(0, 40));
}
for (const element of document.querySelectorAll('[tabindex]')) {
  if (parseInt(element.getAttribute('tabindex')) > 0) problems.push('positive tabindex');
}
for (const button of document.querySelectorAll('button')) {
  if (button.getBoundingClientRect().height < 44) problems.push('button under 44 px: ' + button.textContent.trim());
}
if (document.documentElement.scrollWidth > window.innerWidth) problems.push('wider than the screen: ' + document.documentElement.scrollWidth);
return problems;
"""

FOCUSABLE = r"""
// A radio group takes one Tab stop: its checked radio (or its first when none is checked).
return [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')]
  .filter(e => e.offsetParent !== null)
  .filter(e => {
    if (e.type !== 'radio') return true;
    const group = [...document.querySelectorAll('input[type=radio]')].filter(r => r.name === e.name);
    const checked = group.find(r => r.checked);
    return checked ? e === checked : e === group[0];
  })
  .map(e => e.name ? e.name + '=' + (e.value || '') : e.textContent.trim());
"""


def keyboard_order(driver, count):
    """The first `count` controls the Tab key reaches, from the top of the page."""
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    body = driver.find_element(By.TAG_NAME, "body")
    reached = []
    for _ in range(count):
        body.send_keys(Keys.TAB) if not reached else driver.switch_to.active_element.send_keys(Keys.TAB)
        reached.append(driver.execute_script(
            "const e = document.activeElement; return e.name ? e.name + '=' + (e.value || '') : e.textContent.trim();"))
    return reached


def audit(driver, name, artifacts, report):
    problems = driver.execute_script(AUDIT)
    expected = driver.execute_script(FOCUSABLE)
    reached = keyboard_order(driver, min(6, len(expected)))
    if reached != expected[:len(reached)]:
        problems.append("keyboard order %s differs from reading order %s" % (reached, expected[:len(reached)]))
    driver.save_screenshot(os.path.join(artifacts, name + ".png"))
    report["audits"][name] = problems


def mail_to(directory, address, subject_part, timeout=45):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in sorted(glob.glob(os.path.join(directory, "*.eml"))):
            message = email.message_from_bytes(open(path, "rb").read(), policy=policy.default)
            if address in str(message["To"]) and subject_part in str(message["Subject"]):
                return message.get_body(("plain",)).get_content()
        time.sleep(0.2)
    raise SystemExit("no mail to %s with '%s'" % (address, subject_part))


def link(text, prefix):
    start = text.index(prefix)
    return text[start:].split()[0]


def main():
    base, public, mail_dir, artifacts, language, address, pause_until = sys.argv[1:8]
    os.makedirs(artifacts, exist_ok=True)
    driver = headless_chrome("--lang=" + language, window="375,812")
    report = {"audits": {}, "pages": {}}
    try:
        # A phone's viewport: a headless window cannot be narrower than 500 px, an emulated device can.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True})
        driver.get(base + "/join?lang=" + language)
        report["viewportWidth"] = driver.execute_script("return window.innerWidth")
        audit(driver, "join-" + language, artifacts, report)
        driver.find_element(By.ID, "email").send_keys(address)
        driver.find_element(By.ID, "name").send_keys("Sam de Vries" if language == "nl" else "Sam Taylor")
        driver.find_element(By.CSS_SELECTOR, "input[name=language][value=%s]" % language).click()
        driver.find_element(By.CSS_SELECTOR, "input[name='themes[]'][value=werken-bij]").click()
        for box in driver.find_elements(By.CSS_SELECTOR, "input[name='networks[]']:checked"):
            box.click()
        for network in ["linkedin", "whatsapp"]:
            driver.find_element(By.CSS_SELECTOR, "input[name='networks[]'][value=%s]" % network).click()
        submit(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        report["pages"]["afterJoin"] = driver.find_element(By.TAG_NAME, "h1").text
        driver.save_screenshot(os.path.join(artifacts, "join-sent-%s.png" % language))

        confirm = link(mail_to(mail_dir, address, ""), public + "/join/confirm/").replace(public, base)
        driver.get(confirm)
        report["pages"]["confirm"] = driver.find_element(By.TAG_NAME, "h1").text
        submit(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        report["pages"]["afterConfirm"] = driver.find_element(By.TAG_NAME, "h1").text

        welcome = mail_to(mail_dir, address, "Welk" if language == "nl" else "Welcome")
        driver.get(link(welcome, public + "/p/").replace(public, base))
        audit(driver, "preferences-" + language, artifacts, report)
        driver.find_element(By.CSS_SELECTOR, "input[name=frequency][value=biweekly]").click()
        pause = driver.find_element(By.ID, "pausedUntil")
        pause.clear()
        pause.send_keys(pause_until)
        driver.find_element(By.CSS_SELECTOR, "input[name='networks[]'][value=whatsapp]").click()
        driver.find_element(By.CSS_SELECTOR, "input[name=leaderboard]").click()
        submit(driver, driver.find_element(By.CSS_SELECTOR, "input[name=action][value=save] ~ .actions button"))
        report["pages"]["notice"] = driver.find_element(By.ID, "notice").text
        driver.save_screenshot(os.path.join(artifacts, "preferences-saved-%s.png" % language))
    finally:
        driver.quit()
    json.dump(report, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
