#!/usr/bin/python3
"""Drives the editor of a running `advocate serve` in real headless Chromium (Debian's chromium-driver +
python3-selenium), the way a communications officer does their week:

  sign in -> add an item by URL (the page is fetched, its preview shown) -> edit its texts and add an English
  version -> save -> open the week -> preview an ambassador's digest (HTML in the frame, and the text) -> send a
  test to an address -> sign out.

Checks on every page that each form field has a label. Prints one JSON object with what it saw.

usage: editor_browser.py BASE_URL PAGE_URL WEEK NAME PASSWORD AMBASSADOR TEST_ADDRESS
"""
import json
import sys

from browser import headless_chrome, submit
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

UNLABELLED = r"""
return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(f => !((f.labels && f.labels.length) || f.getAttribute('aria-label')))
  .map(f => f.name || f.id);
"""


def main():
    base, page_url, week, name, password, ambassador, test_address = sys.argv[1:8]
    report = {"unlabelled": {}}
    driver = headless_chrome(window="1200,1400")
    wait = WebDriverWait(driver, 30, ignored_exceptions=[StaleElementReferenceException])

    def audit(label):
        report["unlabelled"][label] = driver.execute_script(UNLABELLED)

    def text(css):
        return driver.find_element(By.CSS_SELECTOR, css).text

    try:
        driver.get(base + "/admin/weeks")
        report["redirectedTo"] = driver.current_url.replace(base, "")
        audit("login")
        driver.find_element(By.ID, "name").send_keys(name)
        driver.find_element(By.ID, "password").send_keys(password)
        submit(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        wait.until(lambda d: "/admin/weeks" in d.current_url)
        report["afterSignIn"] = text("p.notice")
        audit("weeks")

        driver.find_element(By.ID, "add-url").send_keys(page_url)
        Select(driver.find_element(By.ID, "add-week")).select_by_value(week)
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Fetch']"))
        wait.until(lambda d: d.find_elements(By.ID, "title"))
        audit("item")
        report["fetched"] = {
            "notice": text("p.notice"),
            "title": driver.find_element(By.ID, "title").get_attribute("value"),
            "url": driver.find_element(By.ID, "url").get_attribute("value"),
            "summary": driver.find_element(By.ID, "summary").get_attribute("value"),
            "weeks": driver.find_element(By.ID, "weeks").get_attribute("value"),
        }
        driver.find_element(By.ID, "texts.all").send_keys("Trots op ons zonnepark!\n---\nZonne-energie voor 12.000 huizen.")
        driver.find_element(By.ID, "texts.x").send_keys("Zonnepark Delfzijl draait #zon")
        driver.find_element(By.ID, "prompt").send_keys("Wat betekent dit voor jouw regio?")
        driver.find_element(By.ID, "en.title").send_keys("Solar park Delfzijl powers 12,000 homes")
        driver.find_element(By.ID, "en.texts.all").send_keys("Proud of our solar park!")
        driver.find_element(By.ID, "en.prompt").send_keys("What does this mean for your region?")
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Save item']"))
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "p.notice") and "Saved" in text("p.notice"))
        report["saved"] = {"url": driver.current_url.replace(base, ""), "notice": text("p.notice")}
        # A second edit: the title is shortened.
        title = driver.find_element(By.ID, "title")
        title.clear()
        title.send_keys("Zonnepark Delfzijl levert stroom")
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Save changes']"))
        wait.until(lambda d: "done=saved" in d.current_url)
        report["history"] = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#history tr")]

        driver.get(base + "/admin/weeks/" + week)
        report["weekItems"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#items .item strong")]
        audit("week")
        field = driver.find_element(By.ID, "preview-ambassador")
        field.clear()
        field.send_keys(ambassador)
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Preview']"))
        wait.until(lambda d: d.find_elements(By.ID, "preview-subject"))
        report["preview"] = {"subject": text("#preview-subject"), "text": text("#preview-text")}
        driver.switch_to.frame(driver.find_element(By.ID, "preview-html"))
        wait.until(lambda d: d.find_elements(By.TAG_NAME, "h2"))
        report["preview"]["frameTitles"] = [e.text for e in driver.find_elements(By.TAG_NAME, "h2")]
        report["preview"]["frameText"] = driver.find_element(By.TAG_NAME, "body").text
        driver.switch_to.default_content()

        driver.get(base + "/admin/weeks/" + week)
        field = driver.find_element(By.ID, "test-ambassador")
        field.clear()
        field.send_keys(ambassador)
        driver.find_element(By.ID, "test-address").send_keys(test_address)
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Send test']"))
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "p.notice, p.problem"))
        notices = driver.find_elements(By.CSS_SELECTOR, "p.notice, p.problem")
        report["testSend"] = notices[0].text

        submit(driver, driver.find_element(By.XPATH, "//button[text()='Sign out']"))
        wait.until(lambda d: "/admin/login" in d.current_url)
        driver.get(base + "/admin/weeks")
        report["afterSignOut"] = driver.current_url.replace(base, "")
    except Exception:
        # What was seen up to the failing step, so the test's failure says where it stopped.
        print("editor_browser.py stopped after: " + json.dumps(report), file=sys.stderr)
        raise
    finally:
        driver.quit()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
