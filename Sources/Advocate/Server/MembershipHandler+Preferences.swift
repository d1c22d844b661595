import AdvocateCore
import Foundation

/// `/p/TOKEN` (the preferences part of ``MembershipHandler``): an ambassador's own page, reached from the link in every digest (an unforgeable token, no login):
/// themes, networks, language, frequency, a pause, leaderboard consent, unsubscribe and re-subscribe, a download of
/// everything stored about them, and erasure after a confirmation step. A link older than
/// ``MembershipConfig/preferencesLinkWeeks`` changes nothing; it offers to mail a fresh one.
extension MembershipHandler {
    private func holder(_ text: String) async throws -> PreferencesHolder {
        guard let token = sealer.open(text), token.kind == .preferences,
            let ambassador = try await database.perform({ try $0.ambassador(id: token.ambassadorID) })
        else { return .unknown }
        if token.test { return .test(ambassador) }
        let age = now().timeIntervalSince(token.week.start(in: config.timeZone)) / (7 * 86_400)
        return age > Double(config.membership.preferencesLinkWeeks + 1) ? .old(ambassador) : .current(ambassador)
    }

    /// `GET /p/TOKEN`.
    func preferencesPage(token: String, csrf: String) async throws -> PageResponse {
        switch try await holder(token) {
        case .unknown: return notFound
        case .test(let ambassador):
            return PageResponse(body: pages.notice("test", language: ambassador.language, values: [:]))
        case .old(let ambassador): return oldLink(ambassador, token: token, csrf: csrf)
        case .current(let ambassador):
            return renderPreferences(
                ambassador, values: MemberFormContext.form(ambassador, today: today), token: token, csrf: csrf)
        }
    }

    /// `POST /p/TOKEN` with `action` = save, unsubscribe, resubscribe, download, erase, eraseConfirmed or freshLink.
    func preferences(token: String, fields: MemberFormFields?, csrfValid: Bool, csrf: String) async throws
        -> PageResponse
    {
        let ambassador: Ambassador
        switch try await holder(token) {
        case .unknown: return notFound
        case .test(let holder):
            return PageResponse(body: pages.notice("test", language: holder.language, values: [:]))
        case .old(let holder):
            guard let fields, csrfValid, fields.action == "freshLink" else {
                return oldLink(holder, token: token, csrf: csrf)
            }
            return try await freshLink(holder)
        case .current(let holder): ambassador = holder
        }
        guard let fields, let id = ambassador.id else { return badRequest(ambassador.language) }
        let words = form.words(ambassador.language)
        guard csrfValid else {
            // A form that expired keeps what was typed into it: sending it again is one press.
            var values = MemberFormContext.form(ambassador, today: today)
            if fields.action == "save" {
                values = MemberFormContext.form(fields)
                values.email = ambassador.email
            }
            var page = renderPreferences(
                ambassador, values: values, token: token, csrf: csrf, formError: words["error.csrf"])
            page.status = 403
            return page
        }
        let (time, week) = (now(), currentWeek)
        switch fields.action {
        case "save":
            let values = MemberFormContext.form(fields)
            let rules = MemberForm.Rules(
                allowedDomains: [], themes: config.plan.themes, today: CalendarDay(time, in: config.timeZone))
            switch values.validate(rules, checkEmail: false) {
            case .failure(let problems):
                var shown = values
                shown.email = ambassador.email
                var page = renderPreferences(
                    ambassador, values: shown, token: token, csrf: csrf, problems: problems)
                page.status = 422
                return page
            case .success(var kept):
                // The page offers no themes when the plan names none: the stored ones stay as they are.
                if config.plan.themes.isEmpty { kept.themes = ambassador.themes }
                let choices = kept
                try await database.perform {
                    try $0.updatePreferences(ambassadorID: id, choices: choices, week: week, now: time)
                }
                return try await reload(id, token: token, csrf: csrf, notice: "saved")
            }
        case "unsubscribe", "resubscribe":
            let status: AmbassadorStatus = fields.action == "unsubscribe" ? .unsubscribed : .active
            try await database.perform { try $0.setStatus(status, ambassadorID: id, now: time) }
            return try await reload(
                id, token: token, csrf: csrf, notice: status == .active ? "resubscribedNotice" : "unsubscribedNotice")
        case "download":
            guard let data = try await database.perform({ try $0.personalData(ambassadorID: id) }) else {
                return notFound
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            var response = PageResponse(
                body: String(decoding: try encoder.encode(data), as: UTF8.self),
                contentType: "application/json; charset=utf-8")
            response.headers["Content-Disposition"] = "attachment; filename=\"advocate-my-data.json\""
            return response
        case "erase":
            var context = form.context(
                MemberFormContext.form(ambassador, today: today), language: ambassador.language, problems: nil,
                csrf: csrf)
            context["erasing"] = true
            context["action"] = "\(config.basePath)/p/\(token)"
            return PageResponse(body: pages.render(template: "preferences.html", context: context))
        case "eraseConfirmed":
            guard fields.confirm == "yes" else {
                var context = form.context(
                    MemberFormContext.form(ambassador, today: today), language: ambassador.language, problems: nil,
                    csrf: csrf)
                context["erasing"] = true
                context["action"] = "\(config.basePath)/p/\(token)"
                return PageResponse(status: 422, body: pages.render(template: "preferences.html", context: context))
            }
            _ = try await database.perform { try $0.removeAmbassador(email: ambassador.email, now: time) }
            return PageResponse(body: pages.notice("erased", language: ambassador.language, values: [:]))
        case "freshLink":
            return try await freshLink(ambassador)
        default:
            return badRequest(ambassador.language)
        }
    }

    // MARK: - Parts

    private func reload(_ id: Int64, token: String, csrf: String, notice: String) async throws -> PageResponse {
        guard let ambassador = try await database.perform({ try $0.ambassador(id: id) }) else { return notFound }
        return renderPreferences(
            ambassador, values: MemberFormContext.form(ambassador, today: today), token: token, csrf: csrf,
            notice: form.words(ambassador.language)[notice])
    }

    private func renderPreferences(
        _ ambassador: Ambassador, values: MemberForm, token: String, csrf: String, problems: FieldProblems? = nil,
        notice: String? = nil, formError: String? = nil
    ) -> PageResponse {
        let language = Language(rawValue: values.language) ?? ambassador.language
        var context = form.context(values, language: language, problems: problems, csrf: csrf)
        let words = form.words(language)
        context["action"] = "\(config.basePath)/p/\(token)"
        context["active"] = ambassador.status == .active
        context["status"] = ambassador.status == .active ? words["statusActive"] : words["statusUnsubscribed"]
        if let notice { context["notice"] = notice }
        if let formError { context["formError"] = formError }
        return PageResponse(body: pages.render(template: "preferences.html", context: context))
    }

    private func oldLink(_ ambassador: Ambassador, token: String, csrf: String) -> PageResponse {
        let words = form.words(ambassador.language)
        return PageResponse(
            body: pages.render(
                template: "page.html",
                context: [
                    "lang": ambassador.language.rawValue, "title": words["oldLinkTitle"] ?? "",
                    "message": words["oldLinkMessage"] ?? "",
                    "csrfForm": ["csrf": csrf, "action": "freshLink", "button": words["freshLinkButton"] ?? ""],
                ]))
    }

    /// Mails the current preferences link to the address on file, within the address's daily limit of the join
    /// form's mails (not within their hourly total: a flood of sign-ups must not keep someone from their own link;
    /// the mail counts towards that total all the same).
    private func freshLink(_ ambassador: Ambassador) async throws -> PageResponse {
        let time = now()
        let perAddress = config.membership.mailsPerAddressPerDay
        if try await database.perform({
            try $0.allowMembershipMail(to: ambassador.email, now: time, perAddress: perAddress, perHour: nil)
        }) {
            let message = notices.message(
                .freshLink, to: ambassador.email, name: ambassador.name, language: ambassador.language,
                url: links.preferences(ambassadorID: ambassador.id ?? 0, week: currentWeek), now: time)
            mails.send(notices.outgoing(message))
        }
        return PageResponse(body: pages.notice("freshLinkSent", language: ambassador.language, values: [:]))
    }

    private var notFound: PageResponse {
        PageResponse(status: 404, body: pages.render("notFound", language: config.defaultLanguage))
    }
}

/// What a preferences token stands for.
private enum PreferencesHolder {
    case unknown
    case test(Ambassador)
    case old(Ambassador)
    case current(Ambassador)
}
