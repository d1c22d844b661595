import AdvocateCore
import Foundation
import Testing

@Suite("Membership rules")
struct MemberFormTests {
    let rules = MemberForm.Rules(
        allowedDomains: ["acme.example"], themes: ["duurzaamheid", "werken-bij"],
        today: CalendarDay(parsing: "2026-12-02")!)

    func valid() -> MemberForm {
        MemberForm(
            email: " Zoe@ACME.example ", name: "Zoë  d'Hondt", language: "en", themes: ["werken-bij"],
            networks: ["linkedin", "x", "linkedin"], frequency: "biweekly", pausedUntil: "2026-12-20",
            leaderboard: true)
    }

    @Test("a valid form gives clean choices: address lower-cased, name tidied, duplicates dropped")
    func validForm() throws {
        let choices = try valid().validate(rules).get()
        #expect(choices.email == "zoe@acme.example")
        #expect(choices.name == "Zoë d'Hondt")
        #expect(choices.language == .en)
        #expect(choices.themes == ["werken-bij"])
        #expect(choices.networks == [.linkedin, .x])
        #expect(choices.frequency == .biweekly)
        #expect(choices.pausedUntil == CalendarDay(parsing: "2026-12-20"))
        #expect(choices.leaderboard)
    }

    @Test(
        "every bad field is named with its own problem",
        arguments: [
            ("email", "zoe@gmail.example", MemberForm.Problem.domainNotAllowed),
            ("email", "not an address", .invalidEmail), ("email", "", .missing),
            ("email", String(repeating: "a", count: 250) + "@acme.example", .tooLong),
            ("name", "", .missing), ("name", String(repeating: "n", count: 201), .tooLong),
            ("name", "Zoë\u{0}", .controlCharacters), ("name", "Zoë\nBcc: x", .controlCharacters),
            ("language", "de", .unknownLanguage), ("language", "", .missing),
            ("themes", "sport", .unknownTheme), ("networks", "myspace", .unknownNetwork), ("networks", "", .noNetwork),
            ("frequency", "daily", .unknownFrequency), ("pausedUntil", "20-12-2026", .invalidDay),
            ("pausedUntil", "2026-02-30", .invalidDay), ("pausedUntil", "2026-12-01", .dayInPast),
            ("pausedUntil", "2028-01-01", .dayTooFar),
        ])
    func badField(field: String, value: String, problem: MemberForm.Problem) {
        var form = valid()
        switch field {
        case "email": form.email = value
        case "name": form.name = value
        case "language": form.language = value
        case "themes": form.themes = [value]
        case "networks": form.networks = value.isEmpty ? [] : [value]
        case "frequency": form.frequency = value
        default: form.pausedUntil = value
        }
        guard case .failure(let problems) = form.validate(rules) else {
            Issue.record("\(field)=\(value) was accepted")
            return
        }
        #expect(problems.byField == [field: problem])
    }

    @Test("the preferences page does not check the address; an empty list of allowed domains admits nobody")
    func emailRules() {
        var form = valid()
        form.email = "whatever"
        #expect((try? form.validate(rules, checkEmail: false).get()) != nil)
        let closed = MemberForm.Rules(allowedDomains: [], themes: [], today: rules.today)
        guard case .failure(let problems) = MemberForm(email: "a@acme.example").validate(closed) else {
            Issue.record("accepted")
            return
        }
        #expect(problems.byField["email"] == .domainNotAllowed)
    }

    @Test("a pause skips every week that starts on or before its day; every other week alternates from its anchor on")
    func schedule() throws {
        let w51 = try ISOWeek(parsing: "2026-W51")  // Monday 14 December
        let w52 = w51.next  // Monday 21 December
        let paused = DeliverySchedule(pausedUntil: CalendarDay(parsing: "2026-12-20"))
        #expect(!paused.includes(w51))
        #expect(paused.skipReason(for: w51) == "paused until 2026-12-20")
        #expect(paused.includes(w52))
        #expect(!DeliverySchedule(pausedUntil: CalendarDay(parsing: "2026-12-21")).includes(w52))

        let biweekly = DeliverySchedule(frequency: .biweekly, anchorWeek: w51.ordinal)
        let weeks = (0..<6).reduce(into: [w51]) { list, _ in list.append(list.last!.next) }
        #expect(weeks.map(biweekly.includes) == [true, false, true, false, true, false, true])
        #expect(biweekly.skipReason(for: w52) == "every two weeks: not this week")
        // Weeks before the anchor were due under the rhythm chosen earlier.
        let chosenLater = DeliverySchedule(frequency: .biweekly, anchorWeek: w52.ordinal)
        #expect(chosenLater.includes(w51))
        #expect(!chosenLater.includes(w52.next))
    }

    @Test("week ordinals run on across the turn of a 53-week year")
    func ordinals() throws {
        let last = try ISOWeek(parsing: "2026-W53")
        #expect(last.next.ordinal == last.ordinal + 1)
        #expect(try ISOWeek(parsing: "2027-W01").ordinal - (try ISOWeek(parsing: "2026-W01")).ordinal == 53)
        #expect(last.monday == CalendarDay(parsing: "2026-12-28"))
    }

    @Test("a mailbox is the address without its +tag")
    func mailbox() {
        #expect(EmailAddress.mailbox(of: "zoe+news@acme.example") == "zoe@acme.example")
        #expect(EmailAddress.mailbox(of: "zoe+a+b@acme.example") == "zoe@acme.example")
        #expect(EmailAddress.mailbox(of: "+zoe@acme.example") == "+zoe@acme.example", "nothing before the +")
        #expect(EmailAddress.mailbox(of: "zoe@plus+domain.example") == "zoe@plus+domain.example")
        #expect(EmailAddress.mailbox(of: "zoe@acme.example") == "zoe@acme.example")
    }
}
