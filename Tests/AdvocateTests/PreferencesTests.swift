import Advocate
import AdvocateCore
import Foundation
import Testing

@Suite("An ambassador's own preferences page", .serialized)
struct PreferencesTests {
    let week = try! ISOWeek(parsing: "2026-W49")
    let sealer = LinkSealer(keyring: try! LinkKeyring(parsing: testLinkKeys))

    /// Zoë (English, every theme, LinkedIn and X) and two items of week 49, one per theme.
    func seed(_ fixture: MembershipFixture) throws -> Ambassador {
        for (url, title, theme) in [
            ("https://acme.example/zon", "Solar park opens", "duurzaamheid"),
            ("https://acme.example/vacature", "We are hiring", "werken-bij"),
        ] {
            _ = try fixture.database.addContent(
                ContentItem(url: url, title: title, theme: theme, weeks: [week], texts: [SuggestedText(text: "Share")]),
                now: fixedNow)
        }
        return try fixture.database.addAmbassador(
            Ambassador(
                email: "zoe@acme.example", name: "Zoë d'Hondt", language: .en, networks: [.linkedin, .x],
                joinedAt: fixedNow), now: fixedNow)
    }

    /// One human share of the first item by `ambassador`.
    func share(_ fixture: MembershipFixture, by ambassador: Ambassador) throws {
        let item = try #require(try fixture.database.contentItems().first)
        try fixture.database.insertClicks([
            ClickRecord(
                at: fixedNow, kind: .share, week: week, itemID: item.id, network: .x, ambassadorID: ambassador.id,
                verdict: ClickVerdict(.human, "test"))
        ])
    }

    func path(_ id: Int64, week: ISOWeek? = nil, test: Bool = false) -> String {
        "/p/\(sealer.seal(LinkToken(kind: .preferences, ambassadorID: id, week: week ?? self.week, test: test)))"
    }

    func digestHTML(_ fixture: MembershipFixture, email: String) throws -> String {
        let preview = DigestPreview(
            database: fixture.database, composer: try fixture.context.makeComposer(),
            timeZone: fixture.context.config.timeZone, now: { fixedNow })
        let files = try preview.preview(email: email, week: week, directory: fixture.directory.url)
        return try String(contentsOf: files[0], encoding: .utf8)
    }

    @Test("changes saved on the page show in the next rendered digest: language, themes, networks")
    func changesReachTheDigest() async throws {
        let fixture = try MembershipFixture()
        let zoe = try seed(fixture)
        let before = try digestHTML(fixture, email: zoe.email)
        #expect(before.contains("Solar park opens") && before.contains("We are hiring"))
        #expect(before.contains("/p/"), "every digest links to the preferences page")
        let page = path(zoe.id!)
        try await fixture.run { browser in
            let form = try await browser.get(page)
            #expect(form.status == .ok)
            #expect(form.body.contains("Your preferences") && form.body.contains("value=\"Zoë d&#39;Hondt\""))
            // A form whose token expired (a new cookie meanwhile) is refused, but keeps what was typed into it.
            let stale = try await browser.post(
                page, [("action", "save"), ("name", "Zoë Nieuw"), ("language", "en"), ("networks[]", "whatsapp")],
                csrf: String(repeating: "D", count: 43))
            #expect(stale.status == .forbidden)
            #expect(stale.body.contains("value=\"Zoë Nieuw\""), "the edit is still in the form")
            #expect(try fixture.database.ambassador(id: zoe.id!)?.name == "Zoë d'Hondt", "nothing saved")
            let saved = try await browser.post(
                page,
                [
                    ("action", "save"), ("name", "Zoë"), ("language", "nl"), ("themes[]", "werken-bij"),
                    ("networks[]", "whatsapp"), ("frequency", "weekly"), ("pausedUntil", ""),
                    ("leaderboard", "on"),
                ])
            #expect(saved.status == .ok)
            #expect(saved.body.contains("Bewaard."), "the page answers in the newly chosen language")
        }
        let updated = try #require(try fixture.database.ambassador(id: zoe.id!))
        #expect(updated.language == .nl && updated.themes == ["werken-bij"] && updated.networks == [.whatsapp])
        #expect(updated.leaderboardOptIn)
        let after = try digestHTML(fixture, email: zoe.email)
        #expect(after.contains("We are hiring") && !after.contains("Solar park opens"))
        #expect(after.contains("lang=\"nl\""))
        #expect(after.contains("WhatsApp</a>"))
        #expect(!after.contains("LinkedIn</a>") && !after.contains(" X</a>"), "only the chosen network's button")
    }

    @Test("bad input gets the form back with a message per field, and nothing changes")
    func badInput() async throws {
        let fixture = try MembershipFixture()
        let zoe = try seed(fixture)
        let page = path(zoe.id!)
        try await fixture.run { browser in
            _ = try await browser.get(page)
            let response = try await browser.post(
                page,
                [
                    ("action", "save"), ("name", ""), ("language", "fr"), ("themes[]", "sport"),
                    ("networks[]", "myspace"), ("frequency", "daily"), ("pausedUntil", "31-12-2026"),
                ])
            #expect(response.status == .unprocessableContent)
            for field in ["name", "language", "themes", "networks", "frequency", "pausedUntil"] {
                #expect(response.body.contains("id=\"\(field)-error\""), "\(field)")
            }
            #expect(response.body.contains("Write the date as 2026-12-31."))
        }
        #expect(try fixture.database.ambassador(id: zoe.id!) == zoe, "nothing stored")
    }

    @Test("a pause and every-two-weeks are honoured by the digest send")
    func scheduleHonoured() async throws {
        let fixture = try MembershipFixture()
        _ = try seed(fixture)
        let database = fixture.database
        var ids: [String: Int64] = [:]
        for name in ["weekly", "paused", "biweekly"] {
            ids[name] =
                try database.addAmbassador(
                    Ambassador(
                        email: "\(name)@acme.example", name: name, language: .nl, networks: [.x], joinedAt: fixedNow),
                    now: fixedNow
                ).id
        }
        let rules = MemberForm.Rules(allowedDomains: [], themes: [], today: CalendarDay(fixedNow, in: .current))
        for (name, form) in [
            ("paused", MemberForm(name: "paused", language: "nl", networks: ["x"], pausedUntil: "2026-12-13")),
            ("biweekly", MemberForm(name: "biweekly", language: "nl", networks: ["x"], frequency: "biweekly")),
        ] {
            let choices = try form.validate(rules, checkEmail: false).get()
            try database.updatePreferences(ambassadorID: ids[name]!, choices: choices, week: week, now: fixedNow)
        }
        let zoe = try #require(try database.ambassador(email: "zoe@acme.example")?.id)
        try database.setStatus(.unsubscribed, ambassadorID: zoe, now: fixedNow)
        let sender = try fixture.context.makeSender(database: database)
        var byWeek: [String: [String]] = [:]
        var week = self.week
        for _ in 0..<3 {
            _ = try database.addContent(
                ContentItem(url: "https://acme.example/\(week)", title: "Week \(week.week)", weeks: [week]),
                now: fixedNow)
            let before = fixture.smtp.received().count
            let summary = try sender.run(.init(week: week))
            #expect(summary.exitCode == 0, "\(week): \(summary.line)")
            byWeek[week.description] = fixture.smtp.received().dropFirst(before).map(\.recipient).sorted()
            week = week.next
        }
        #expect(byWeek["2026-W49"] == ["biweekly@acme.example", "weekly@acme.example"])
        #expect(byWeek["2026-W50"] == ["weekly@acme.example"], "paused through Sunday 13 December; biweekly off")
        #expect(byWeek["2026-W51"] == ["biweekly@acme.example", "paused@acme.example", "weekly@acme.example"])
        let digest = try #require(try database.digest(week: self.week.next))
        #expect(try database.deliveries(digestID: digest.id).count == 1, "people off that week are not queued")

        // Someone who pauses after the week was queued is settled as skipped at once, with the reason, in every
        // open digest; the others' deliveries stay due.
        let later = week
        let queued = try database.beginDigest(week: later, now: fixedNow)
        #expect(try database.enqueueDeliveries(digestID: queued.id, week: later, now: fixedNow) == 2)
        let pause = try MemberForm(name: "weekly", language: "nl", networks: ["x"], pausedUntil: "2027-01-31")
            .validate(rules, checkEmail: false).get()
        try database.updatePreferences(ambassadorID: ids["weekly"]!, choices: pause, week: week, now: fixedNow)
        let skipped = try database.deliveries(digestID: queued.id, status: .skipped)
        #expect(skipped.map(\.lastError) == ["paused until 2027-01-31"])
        #expect(try database.deliveries(digestID: queued.id, status: .pending).count == 1, "the other one stays due")
        #expect(try database.settleInactive(digestID: queued.id, week: later, now: fixedNow) == 0, "nothing left")
        // A run meanwhile reopens no paused person's delivery, so no sender beside it can claim one.
        #expect(try database.requeueSkipped(digestID: queued.id, week: later, now: fixedNow) == 0)
        #expect(try database.claimDeliveries(digestID: queued.id, now: fixedNow, sender: 9, limit: 10).count == 1)
        try database.releaseClaims(digestID: queued.id, sender: 9)
        // Ending the pause queues the week again on the next run (the skipped delivery comes back).
        let back = try MemberForm(name: "weekly", language: "nl", networks: ["x"]).validate(rules, checkEmail: false)
            .get()
        try database.updatePreferences(ambassadorID: ids["weekly"]!, choices: back, week: week, now: fixedNow)
        #expect(try database.requeueSkipped(digestID: queued.id, week: later, now: fixedNow) == 1)
        #expect(try database.settleInactive(digestID: queued.id, week: later, now: fixedNow) == 0)
        #expect(try database.deliveries(digestID: queued.id, status: .pending).count == 2)
        // Choosing every other week from the next week on leaves this week's open delivery due: it was due under
        // the rhythm chosen before (only a pause or leaving withdraws an earlier week).
        let rhythm = try MemberForm(name: "paused", language: "nl", networks: ["x"], frequency: "biweekly")
            .validate(rules, checkEmail: false).get()
        try database.updatePreferences(ambassadorID: ids["paused"]!, choices: rhythm, week: later.next, now: fixedNow)
        #expect(try database.deliveries(digestID: queued.id, status: .pending).count == 2)
        // Unsubscribing (the link in every mail) settles at once too.
        try database.setStatus(.unsubscribed, ambassadorID: ids["weekly"]!, now: fixedNow)
        let left = try database.deliveries(digestID: queued.id, status: .skipped)
        #expect(left.map(\.lastError) == ["the ambassador is unsubscribed"])
    }

    @Test("download my data: everything stored about the person, as a JSON file")
    func download() async throws {
        let fixture = try MembershipFixture()
        let zoe = try seed(fixture)
        try share(fixture, by: zoe)
        let page = path(zoe.id!)
        try await fixture.run { browser in
            _ = try await browser.get(page)
            let file = try await browser.post(page, [("action", "download")])
            #expect(file.status == .ok)
            #expect(file.contentType == "application/json; charset=utf-8")
            #expect(file.disposition == "attachment; filename=\"advocate-my-data.json\"")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(file.body.utf8)) as? [String: Any])
            let profile = try #require(json["profile"] as? [String: Any])
            #expect(profile["email"] as? String == "zoe@acme.example")
            #expect(profile["name"] as? String == "Zoë d'Hondt")
            let clicks = try #require(json["clicks"] as? [[String: Any]])
            #expect(clicks.count == 1 && clicks[0]["count"] as? Int == 1 && clicks[0]["kind"] as? String == "share")
            #expect(json["deliveries"] is [Any])
        }
    }

    @Test("erase needs a confirmation, then removes the person, keeps anonymous counts and blocks invitations")
    func erase() async throws {
        let fixture = try MembershipFixture()
        let zoe = try seed(fixture)
        try share(fixture, by: zoe)
        let page = path(zoe.id!)
        let database = fixture.database
        try await fixture.run { browser in
            _ = try await browser.get(page)
            let ask = try await browser.post(page, [("action", "erase")])
            #expect(ask.body.contains("Erase your data?"))
            #expect(try database.ambassador(id: zoe.id!) != nil, "asking changes nothing")
            let unticked = try await browser.post(page, [("action", "eraseConfirmed")])
            #expect(unticked.status == .unprocessableContent)
            #expect(try database.ambassador(id: zoe.id!) != nil)
            let erased = try await browser.post(page, [("action", "eraseConfirmed"), ("confirm", "yes")])
            #expect(erased.body.contains("Your data is erased"))
            #expect(try await browser.get(page).status == .notFound)
        }
        #expect(try database.ambassador(id: zoe.id!) == nil)
        #expect(try database.clickCounts()["share/human"] == 1, "the share still counts, anonymously")
        #expect(try database.isSuppressed("zoe@acme.example"))
        let queued = try database.queueInvitations(
            [InvitationRequest(email: "zoe@acme.example", name: "", language: .en)], force: false, cooldownDays: 30,
            now: fixedNow)
        #expect(queued.removed == ["zoe@acme.example"] && queued.queued.isEmpty)
    }

    @Test("unsubscribe and re-subscribe on the page; an old link offers a fresh one; a test link changes nothing")
    func subscriptionAndOldLinks() async throws {
        let fixture = try MembershipFixture()
        let zoe = try seed(fixture)
        let page = path(zoe.id!)
        let database = fixture.database
        let old = path(zoe.id!, week: try ISOWeek(parsing: "2026-W10"))
        let test = path(zoe.id!, test: true)
        try await fixture.run { browser in
            _ = try await browser.get(page)
            let left = try await browser.post(page, [("action", "unsubscribe")])
            #expect(left.body.contains("You are unsubscribed."))
            #expect(try database.ambassador(id: zoe.id!)?.status == .unsubscribed)
            let back = try await browser.post(page, [("action", "resubscribe")])
            #expect(back.body.contains("Welcome back"))
            #expect(try database.ambassador(id: zoe.id!)?.status == .active)

            let stale = try await browser.get(old)
            #expect(stale.body.contains("This link is too old") && !stale.body.contains("name=\"name\""))
            let ignored = try await browser.post(old, [("action", "unsubscribe")])
            #expect(ignored.body.contains("This link is too old"))
            #expect(try database.ambassador(id: zoe.id!)?.status == .active)
            let fresh = try await browser.post(old, [("action", "freshLink")])
            #expect(fresh.body.contains("A fresh link to your preferences is on its way."))

            #expect(try await browser.get(test).body.contains("nothing can be changed here"))
            _ = try await browser.post(test, [("action", "unsubscribe")])
            #expect(try database.ambassador(id: zoe.id!)?.status == .active)
        }
        let mail = try #require(try await fixture.mails(atLeast: 1).first)
        let link = try #require(MembershipFixture.link(in: mail, prefix: "https://go.acme.example/p/"))
        #expect(sealer.open(String(link.dropFirst("https://go.acme.example/p/".count)))?.week == week)
    }

    @Test("a fresh link is held back by the address's daily limit only, not by a flood of sign-ups using the hour's")
    func freshLinkBesideAFlood() async throws {
        let fixture = try MembershipFixture()
        let zoe = try seed(fixture)
        let database = fixture.database
        let old = path(zoe.id!, week: try ISOWeek(parsing: "2026-W10"))
        // The join form's hourly total (100) used up by strangers' sign-ups.
        var flood = 0
        while try database.allowMembershipMail(
            to: "stranger\(flood)@acme.example", now: fixture.clock.now, perAddress: 3, perHour: 100)
        {
            flood += 1
        }
        #expect(flood == 100)
        try await fixture.run { browser in
            _ = try await browser.get(old)
            for _ in 0..<4 {
                let fresh = try await browser.post(old, [("action", "freshLink")])
                #expect(fresh.body.contains("A fresh link to your preferences is on its way."))
            }
        }
        await fixture.settle()
        let mails = try await fixture.mails(atLeast: 3)
        #expect(mails.count == 3, "three a day for her address (mailsPerAddressPerDay), the hour's total aside")
        #expect(mails.allSatisfy { $0["toAddress"] as? String == "zoe@acme.example" })
    }
}
