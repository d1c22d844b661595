import AdvocateCore
import Foundation
import HTTPTypes
import Logging
import Testing

@testable import Advocate

@Suite("Joining: sign-up with double opt-in, invitations' join links", .serialized)
struct JoinTests {
    let person: [(String, String)] = [
        ("email", "Zoe@acme.example"), ("name", "Zoë d'Hondt"), ("language", "en"), ("themes[]", "werken-bij"),
        ("networks[]", "linkedin"), ("networks[]", "x"),
    ]

    /// Zoe, who was an ambassador and unsubscribed.
    static func unsubscribedZoe(_ database: AppDatabase) throws -> Ambassador {
        try database.addAmbassador(
            Ambassador(
                email: "zoe@acme.example", name: "Zoe", language: .en, networks: [.x], status: .unsubscribed,
                joinedAt: fixedNow),
            now: fixedNow)
    }

    @Test("sign-up: check-your-inbox page, confirmation mail, GET changes nothing, POST activates, welcome mail")
    func doubleOptIn() async throws {
        let fixture = try MembershipFixture()
        let database = fixture.database
        let person = person
        try await fixture.run { browser in
            let form = try await browser.get("/join?lang=en")
            #expect(form.status == .ok)
            #expect(form.body.contains("Careers"), "theme labels from config")
            #expect(form.body.contains("<label for=\"email\">Work e-mail</label>"))
            #expect(form.body.contains("Become an ambassador of Acme &amp; Zon"), "words escaped once")
            #expect(!form.body.contains("&amp;amp;"))
            let sent = try await browser.post("/join", person)
            #expect(sent.status == .ok)
            #expect(sent.body.contains("Check your inbox"))
            #expect(try database.ambassador(email: "zoe@acme.example") == nil, "nobody is active before confirming")

            let confirmation = try #require(try await fixture.mails(atLeast: 1).first)
            #expect(confirmation["toAddress"] as? String == "zoe@acme.example")
            #expect((confirmation["subject"] as? String)?.hasPrefix("Confirm your sign-up") == true)
            let link = try #require(
                MembershipFixture.link(in: confirmation, prefix: "https://go.acme.example/join/confirm/"))
            let path = String(link.dropFirst("https://go.acme.example".count))

            let page = try await browser.get(path)
            #expect(page.status == .ok)
            #expect(page.body.contains("Yes, sign me up"))
            // What the button confirms is on the page (a sign-up someone else made shows itself), escaped.
            for shown in [
                "<dt>Work e-mail</dt><dd>zoe@acme.example</dd>", "<dt>Your name</dt><dd>Zoë d&#39;Hondt</dd>",
                "<dt>Where you share</dt><dd>LinkedIn, X</dd>", "<dt>How often</dt><dd>Every week</dd>",
                "Do not press: nothing happens without it.",
            ] {
                #expect(page.body.contains(shown), "\(shown) in \(page.body)")
            }
            #expect(page.body.contains("<dt>Topics you know about</dt><dd>Careers</dd>"), "\(page.body)")
            #expect(try database.ambassador(email: "zoe@acme.example") == nil, "a GET (a mail scanner) changes nothing")

            let confirmed = try await browser.post(path, [])
            #expect(confirmed.status == .ok)
            #expect(confirmed.body.contains("Welcome aboard"))
            let zoe = try #require(try database.ambassador(email: "zoe@acme.example"))
            #expect(zoe.status == .active)
            #expect(zoe.name == "Zoë d'Hondt" && zoe.language == .en)
            #expect(zoe.themes == ["werken-bij"] && zoe.networks == [.linkedin, .x])

            let mails = try await fixture.mails(atLeast: 2)
            let welcome = try #require(mails.last)
            #expect((welcome["subject"] as? String) == "Welcome, Zoë: this is how it works")
            #expect((welcome["text"] as? String)?.contains("Welcome to the ambassadors of Acme & Zon") == true)
            #expect((welcome["html"] as? String)?.contains("Acme &amp; Zon") == true)
            #expect(!((welcome["html"] as? String) ?? "").contains("&amp;amp;"), "escaped once, not twice")
            #expect(confirmation["to"] as? String == "zoe@acme.example", "no unconfirmed name in the headers")
            #expect(MembershipFixture.link(in: welcome, prefix: "https://go.acme.example/p/") != nil)
            // A second press (a double click) within the hour says she is in, changes nothing and mails nothing;
            // after it the used link is gone.
            let again = try await browser.post(path, [])
            #expect(again.status == .ok && again.body.contains("You are already an ambassador"), "\(again.body)")
            let reopened = try await browser.get(path)
            #expect(
                reopened.body.contains("You are already an ambassador") && !reopened.body.contains("Yes, sign me up"))
            fixture.clock.advance(by: 1_800)
            #expect(try await browser.post(path, []).body.contains("You are already an ambassador"), "a third press")
            fixture.clock.advance(by: 1_801)
            #expect(try await browser.post(path, []).status == .notFound, "a used link does not work for long")
            await fixture.settle()
            #expect(try await fixture.mails(atLeast: 2).count == 2, "no mail for the second press")
        }
    }

    @Test("two sign-ups of one address each confirm their own choices; the first link never turns 'expired'")
    func twoSignups() async throws {
        let fixture = try MembershipFixture()
        let database = fixture.database
        let person = person
        try await fixture.run { browser in
            _ = try await browser.get("/join")
            _ = try await browser.post("/join", person)
            await fixture.settle()
            var second = person
            second[1] = ("name", "Someone Else")
            _ = try await browser.post("/join", second)
            await fixture.settle()
            let paths = try await fixture.confirmationPaths(atLeast: 2)
            #expect(paths.count == 2 && paths[0] != paths[1])
            let first = try await browser.get(paths[0])
            #expect(first.body.contains("<dd>Zo\u{EB} d&#39;Hondt</dd>") && !first.body.contains("Someone Else"))
            #expect(try await browser.get(paths[1]).body.contains("<dd>Someone Else</dd>"))
            // The first is hers: pressing it confirms her own choices; the other link is then spent.
            #expect(try await browser.post(paths[0], []).body.contains("Welcome aboard"))
            #expect(try database.ambassador(email: "zoe@acme.example")?.name == "Zo\u{EB} d'Hondt")
            #expect(try await browser.get(paths[1]).status == .notFound)
        }
    }

    @Test("a confirmation mail pressed after its person unsubscribed changes nothing: the later decision stands")
    func confirmationAfterUnsubscribe() async throws {
        let fixture = try MembershipFixture()
        let database = fixture.database
        let person = person
        let zoe = try Self.unsubscribedZoe(database)
        try await fixture.run { browser in
            fixture.clock.advance(by: 60)
            _ = try await browser.get("/join")
            _ = try await browser.post("/join", person)
            let path = try await fixture.confirmationPath()
            // She confirms, then leaves again; the confirmation mail pressed once more must not bring her back.
            _ = try await browser.get(path)
            #expect(try await browser.post(path, []).body.contains("Welcome aboard"))
            fixture.clock.advance(by: 60)
            try database.setStatus(.unsubscribed, ambassadorID: zoe.id!, now: fixture.clock.now)
            #expect(try await browser.get(path).status == .notFound, "the page offers no button that does nothing")
            let pressed = try await browser.post(path, [])
            #expect(pressed.status == .notFound, "\(pressed.body)")
            #expect(try database.ambassador(email: "zoe@acme.example")?.status == .unsubscribed)
            await fixture.settle()
            #expect(try await fixture.mails(atLeast: 2).count == 2, "the confirmation and one welcome")
        }
    }

    @Test("known addresses (active, unsubscribed, pending) get the same page as a new one, and never a second person")
    func duplicates() async throws {
        let fixture = try MembershipFixture()
        let database = fixture.database
        for (email, status) in [
            ("zoe@acme.example", AmbassadorStatus.active), ("left@acme.example", .unsubscribed),
            ("waiting@acme.example", .pending),
        ] {
            _ = try database.addAmbassador(
                Ambassador(
                    email: email, name: "Known", language: .en, networks: [.x], status: status, joinedAt: fixedNow),
                now: fixedNow)
        }
        let person = person
        try await fixture.run { browser in
            _ = try await browser.get("/join")
            var answers: [String: (HTTPResponse.Status, String)] = [:]
            for email in ["zoe@acme.example", "left@acme.example", "waiting@acme.example", "new@acme.example"] {
                let response = try await browser.post(
                    "/join", person.map { $0.0 == "email" ? ("email", email) : $0 })
                answers[email] = (response.status, response.body)
            }
            let first = try #require(answers["new@acme.example"])
            for (email, answer) in answers {
                #expect(answer.0 == first.0 && answer.1 == first.1, "\(email): the answer tells nothing")
            }
            let mails = try await fixture.mails(atLeast: 4)
            let byAddress = Dictionary(grouping: mails) { $0["toAddress"] as? String ?? "" }
            #expect((byAddress["zoe@acme.example"]?.first?["subject"] as? String)?.contains("already") == true)
            for email in ["left@acme.example", "waiting@acme.example", "new@acme.example"] {
                #expect((byAddress[email]?.first?["subject"] as? String)?.hasPrefix("Confirm") == true, "\(email)")
            }
            #expect(try database.ambassadors().count == 3, "nobody new until a confirmation")
            let leftMail = try #require(byAddress["left@acme.example"]?.first)
            let link = try #require(
                MembershipFixture.link(in: leftMail, prefix: "https://go.acme.example/join/confirm/"))
            _ = try await browser.get(String(link.dropFirst("https://go.acme.example".count)))
            _ = try await browser.post(String(link.dropFirst("https://go.acme.example".count)), [])
            #expect(try database.ambassador(email: "left@acme.example")?.status == .active, "re-joined, same person")
            #expect(try database.ambassadors().count == 3)
        }
    }

    @Test("an old confirmation link of someone who is active again changes nothing and sends no second welcome")
    func staleConfirmation() async throws {
        let fixture = try MembershipFixture()
        let database = fixture.database
        let left = try Self.unsubscribedZoe(database)
        let person = person
        try await fixture.run { browser in
            _ = try await browser.get("/join")
            _ = try await browser.post("/join", person)
            let path = try await fixture.confirmationPath()
            // Meanwhile she came back through her preferences page, every other week and paused until January.
            let pause = try #require(CalendarDay(parsing: "2027-01-10"))
            try database.updatePreferences(
                ambassadorID: left.id!,
                choices: MemberForm.Choices(
                    email: "zoe@acme.example", name: "Zoe", language: .en, themes: [], networks: [.linkedin],
                    frequency: .biweekly, pausedUntil: pause),
                status: .active, week: try ISOWeek(parsing: "2026-W49"), now: fixedNow)
            _ = try await browser.get(path)
            let confirmed = try await browser.post(path, [])
            #expect(confirmed.status == .ok)
            #expect(confirmed.body.contains("You are already an ambassador"), "\(confirmed.body)")
            let zoe = try #require(try database.ambassador(email: "zoe@acme.example"))
            #expect(zoe.status == .active && zoe.schedule.pausedUntil == pause && zoe.schedule.frequency == .biweekly)
            #expect(zoe.networks == [.linkedin] && zoe.name == "Zoe", "the sign-up's choices did not replace hers")
            fixture.clock.advance(by: 3_601)
            #expect(try await browser.post(path, []).status == .notFound, "the sign-up is used up after the hour")
            #expect(try await fixture.mails(atLeast: 1).count == 1, "no welcome mail")
        }
    }

    @Test("a sign-up left unconfirmed is deleted once expired, when a server starts, even with sign-up closed since")
    func expiredSignupsGo() async throws {
        let fixture = try MembershipFixture()
        let person = person
        try await fixture.run { browser in
            _ = try await browser.get("/join")
            _ = try await browser.post("/join", person)
        }
        await fixture.settle()
        #expect(try fixture.database.signupCount() == 1)
        func restart() throws {
            try buildApplication(context: fixture.context, database: fixture.database, logger: Logger(label: "t"))
                .recorder.shutdown()
        }
        // Restarted within the expiry: kept (the link still works).
        try restart()
        #expect(try fixture.database.signupCount() == 1)
        fixture.clock.advance(by: 8 * 86_400)
        try restart()
        #expect(try fixture.database.signupCount() == 0)
    }

    @Test("closed sign-up, foreign domains and bad input: a clear message per field and nothing stored")
    func refusals() async throws {
        let closed = try MembershipFixture(membership: #"{"allowedDomains": []}"#)
        let person = person
        try await closed.run { browser in
            let page = try await browser.get("/join?lang=nl")
            #expect(page.body.contains("Aanmelden is gesloten") && !page.body.contains("<form"))
            let post = try await browser.post("/join", person)
            #expect(post.body.contains("Aanmelden is gesloten"))
        }
        #expect(closed.smtp.received().isEmpty)

        let fixture = try MembershipFixture()
        let database = fixture.database
        try await fixture.run { browser in
            _ = try await browser.get("/join")
            let cases: [([(String, String)], String, String)] = [
                ([("email", "zoe@gmail.example")], "email", "only addresses of acme.example can join"),
                ([("email", "zoe at acme")], "email", "This is not an e-mail address."),
                ([("name", String(repeating: "z", count: 300))], "name", "This is too long."),
                ([("name", "Zoë\u{7}")], "name", "characters that are not allowed"),
                ([("themes[]", "sport")], "themes", "Choose from the topics offered."),
                ([("networks[]", "myspace")], "networks", "Choose from the networks offered."),
                ([("language", "de")], "language", "Kies een van de aangeboden talen."),  // the default language
            ]
            for (override, field, message) in cases {
                let names = Set(override.map(\.0))
                let fields = person.filter { !names.contains($0.0) } + override
                let response = try await browser.post("/join", fields)
                #expect(response.status == .unprocessableContent, "\(field)")
                #expect(response.body.contains("id=\"\(field)-error\""), "\(field)")
                #expect(response.body.contains(message), "\(field): \(message)")
                #expect(response.body.contains("class=\"alert\""))
            }
            let empty = try await browser.post("/join", [])
            #expect(empty.status == .unprocessableContent)
            for field in ["email", "name", "networks"] { #expect(empty.body.contains("id=\"\(field)-error\"")) }
        }
        #expect(try database.ambassadors().isEmpty)
        #expect(fixture.smtp.received().isEmpty, "no mail for a rejected form")
    }

    @Test("cross-site POSTs are refused: no cookie, a wrong token, or another site's Origin")
    func csrf() async throws {
        let fixture = try MembershipFixture()
        let person = person
        try await fixture.run { browser in
            _ = try await browser.get("/join")
            let cookie = try #require(browser.cookie)
            let noCookie = try await browser.post("/join", person, csrf: "x", cookie: "")
            #expect(noCookie.status == .forbidden)
            #expect(noCookie.body.contains("The form expired"))
            let wrong = try await browser.post("/join", person, csrf: String(repeating: "A", count: 43), cookie: cookie)
            #expect(wrong.status == .forbidden)
            let foreign = try await browser.post(
                "/join", person, headers: [.origin: "https://evil.example"])
            #expect(foreign.status == .forbidden)
            let crossSite = try await browser.post(
                "/join", person, headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(crossSite.status == .forbidden)
            let sibling = try await browser.post(
                "/join", person, headers: [HTTPField.Name("Sec-Fetch-Site")!: "same-site"])
            #expect(sibling.status == .forbidden, "a sibling subdomain is another site for our forms")
            let sameSite = try await browser.post("/join", person, headers: [.origin: "https://go.acme.example"])
            #expect(sameSite.status == .ok)

            // The confirm button and the preferences page are protected the same way.
            let path = try await fixture.confirmationPath()
            _ = try await browser.get(path)
            // A press refused for its token alone (the link opened in a second tab, whose cookie replaced the
            // first's) gets the button again with the cookie's token; one from another site a plain refusal.
            let stale = try await browser.post(path, [], csrf: String(repeating: "B", count: 43))
            #expect(stale.status == .forbidden)
            #expect(stale.body.contains("The form expired") && stale.body.contains("Yes, sign me up"), "\(stale.body)")
            let token = String(try #require(browser.cookie).drop { $0 != "=" }.dropFirst())
            #expect(stale.body.contains("value=\"\(token)\""), "the page carries the cookie's token")
            let forged = try await browser.post(
                path, [], csrf: String(repeating: "B", count: 43),
                headers: [HTTPField.Name("Sec-Fetch-Site")!: "same-site"])
            #expect(forged.status == .forbidden && !forged.body.contains("Yes, sign me up"))
            #expect(try fixture.database.ambassador(email: "zoe@acme.example") == nil)
            #expect(try await browser.post(path, []).status == .ok)
            let zoe = try #require(try fixture.database.ambassador(email: "zoe@acme.example"))
            let sealer = LinkSealer(keyring: try LinkKeyring(parsing: testLinkKeys))
            let preferences =
                "/p/"
                + sealer.seal(
                    LinkToken(kind: .preferences, ambassadorID: zoe.id!, week: try ISOWeek(parsing: "2026-W49")))
            _ = try await browser.get(preferences)
            let forgedPreferences = try await browser.post(
                preferences, [("action", "unsubscribe")], csrf: String(repeating: "C", count: 43))
            #expect(forgedPreferences.status == .forbidden)
            #expect(try fixture.database.ambassador(email: "zoe@acme.example")?.status == .active)
        }
        await fixture.settle()
        let sent = fixture.smtp.received().map(\.recipient)
        #expect(sent.filter { $0 == "zoe@acme.example" }.count == 2, "the confirmation and the welcome, nothing else")
    }

    @Test("expired and tampered confirmation links do nothing")
    func expiredLinks() async throws {
        let fixture = try MembershipFixture()
        let database = fixture.database
        let clock = fixture.clock
        let person = person
        try await fixture.run { browser in
            _ = try await browser.get("/join")
            _ = try await browser.post("/join", person)
            let path = try await fixture.confirmationPath()
            let tampered = String(path.dropLast()) + (path.hasSuffix("A") ? "B" : "A")
            #expect(try await browser.get(tampered).status == .notFound)
            #expect(try await browser.post(tampered, []).status == .notFound)
            clock.advance(by: 8 * 86_400)
            let late = try await browser.get(path, headers: [.acceptLanguage: "en-GB,en;q=0.9,nl;q=0.5"])
            #expect(late.status == .notFound)
            #expect(late.body.contains("This link has expired"))
            #expect(try await browser.post(path, []).status == .notFound)
        }
        #expect(try database.ambassadors().isEmpty)
    }

    @Test(
        "rate limits: at most 3 mails per mailbox a day (+tags included) and the hourly total, however the form is sent"
    )
    func rateLimits() async throws {
        let fixture = try MembershipFixture(
            membership: #"{"allowedDomains": ["acme.example"], "mailsPerAddressPerDay": 3, "mailsPerHour": 5}"#)
        let person = person
        let clock = fixture.clock
        try await fixture.run { browser in
            _ = try await browser.get("/join")
            // One mailbox, whatever its +tags: zoe+2@… reaches Zoe's inbox as zoe@… does.
            for index in 1...6 {
                let email = index.isMultiple(of: 2) ? "Zoe+\(index)@acme.example" : "Zoe@acme.example"
                #expect(
                    try await browser.post("/join", person.map { $0.0 == "email" ? ("email", email) : $0 }).status
                        == .ok)
                clock.advance(by: 1)
            }
            await fixture.settle()
            #expect(fixture.smtp.received().count == 3)
            for index in 1...4 {
                _ = try await browser.post(
                    "/join", person.map { $0.0 == "email" ? ("email", "p\(index)@acme.example") : $0 })
            }
            await fixture.settle()
        }
        let received = fixture.smtp.received().map(\.recipient)
        #expect(received.filter { $0.hasPrefix("zoe") }.count == 3, "\(received)")
        #expect(received.count == 5, "the hourly limit holds across addresses")
    }

    @Test("an invitation's link pre-fills the form and joins at once; a changed address falls back to opt-in")
    func invitationLink() async throws {
        let fixture = try MembershipFixture()
        let database = fixture.database
        let queued = try database.queueInvitations(
            [InvitationRequest(email: "ivo@acme.example", name: "Ivo Smit", language: .nl)], force: false,
            cooldownDays: 30, now: fixedNow)
        #expect(queued.queued == ["ivo@acme.example"])
        let invitation = try #require(try database.invitations().first)
        let sealer = LinkSealer(keyring: try LinkKeyring(parsing: testLinkKeys))
        let link = TrackedShareLinks(baseURL: "", sealer: sealer).invitation(
            id: invitation.id, week: try ISOWeek(parsing: "2026-W49"))
        try await fixture.run { browser in
            let form = try await browser.get(link)
            #expect(form.body.contains("value=\"ivo@acme.example\""))
            #expect(form.body.contains("value=\"Ivo Smit\""))
            #expect(form.body.contains("Doe nu mee"), "in the invitation's language")
            let invite = try #require(inputValue("invite", in: form.body))
            let joined = try await browser.post(
                "/join",
                [
                    ("invite", invite), ("email", "ivo@acme.example"), ("name", "Ivo Smit"), ("language", "nl"),
                    ("networks[]", "linkedin"),
                ])
            #expect(joined.body.contains("Welkom!"))
            #expect(try database.ambassador(email: "ivo@acme.example")?.status == .active)
            #expect(try database.invitations().first?.acceptedAt != nil)
            let welcome = try #require(try await fixture.mails(atLeast: 1).first)
            #expect((welcome["subject"] as? String)?.hasPrefix("Welkom, Ivo") == true)
            // The form sent twice (a double click): the second answer says he is in too, and sends nothing.
            let twice = try await browser.post(
                "/join",
                [
                    ("invite", invite), ("email", "ivo@acme.example"), ("name", "Ivo Smit"), ("language", "nl"),
                    ("networks[]", "linkedin"),
                ])
            #expect(twice.body.contains("Je bent al ambassadeur"), "\(twice.body)")

            let other = try await browser.post(
                "/join",
                [
                    ("invite", invite), ("email", "someone@acme.example"), ("name", "S"), ("language", "nl"),
                    ("networks[]", "x"),
                ])
            #expect(other.body.contains("Kijk in je mailbox"), "another address needs its own confirmation")
            #expect(try database.ambassador(email: "someone@acme.example") == nil)
            await fixture.settle()
            let mails = try await fixture.mails(atLeast: 2)
            #expect(mails.filter { $0["toAddress"] as? String == "ivo@acme.example" }.count == 1, "one welcome only")
        }
    }

    @Test("behind a proxy under a path, the forms post to that path; without the SMTP secret the server still runs")
    func pathAndMissingSecret() async throws {
        let fixture = try MembershipFixture(publicBaseURL: "https://acme.example/advocate", smtpUser: "relay")
        let person = person
        try await fixture.run { browser in
            let form = try await browser.get("/join")
            #expect(form.body.contains("action=\"/advocate/join\""))
            let sent = try await browser.post("/join", person)
            #expect(sent.status == .ok, "the page works; only the mail cannot go")
        }
        await fixture.settle()
        #expect(fixture.smtp.received().isEmpty)
    }
}
