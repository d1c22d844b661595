import AdvocateCore
import Crypto
import Foundation
import Logging
import Synchronization

/// `/join` (the join part of ``MembershipHandler``): self sign-up with double opt-in, and joining through a personal invitation.
///
/// A sign-up never reveals whether an address is known: every valid form gets the same "check your inbox" page at
/// once, and what follows (a confirmation mail, or "you are already in" for an active ambassador) happens after the
/// answer, within the rate limits. Only the POST of the confirm page activates anyone: mail scanners follow GETs.
extension MembershipHandler {
    /// An invitation opens the form even when sign-up is closed, and for addresses outside the allowed domains: the
    /// operator chose that person.
    func joinPage(language: Language, invite: String?, csrf: String) async throws -> PageResponse {
        let invitation = try await invite.asyncFlatMap(invitation)
        guard !membership.allowedDomains.isEmpty || invitation != nil else { return closed(language) }
        var values = MemberForm(language: language.rawValue, networks: config.defaultNetworks.map(\.rawValue))
        var language = language
        var inviteToken: String?
        if let invite, let invitation {
            values.email = invitation.email
            values.name = invitation.name
            values.language = invitation.language.rawValue
            language = invitation.language
            inviteToken = invite
        }
        return renderJoin(values, language: language, problems: nil, csrf: csrf, invite: inviteToken)
    }

    /// `POST /join`.
    func join(_ fields: MemberFormFields?, csrfValid: Bool, csrf: String, language: Language) async throws
        -> PageResponse
    {
        guard let fields else { return badRequest(language) }
        let values = MemberFormContext.form(fields)
        let invitation = try await fields.invite.asyncFlatMap(invitation)
        let invited = invitation.map { EmailAddress.normalized(values.email) == $0.email } ?? false
        guard !membership.allowedDomains.isEmpty || invited else { return closed(language) }
        var rules = self.rules
        if invited, let invitation { rules.allowedDomains.append(EmailAddress.domain(of: invitation.email)) }
        let shown = Language(rawValue: values.language) ?? language
        guard csrfValid else {
            var page = renderJoin(
                values, language: shown, problems: nil, csrf: csrf, invite: fields.invite,
                formError: form.words(shown)["error.csrf"])
            page.status = 403
            return page
        }
        let choices: MemberForm.Choices
        switch values.validate(rules) {
        case .failure(let problems):
            var page = renderJoin(values, language: shown, problems: problems, csrf: csrf, invite: fields.invite)
            page.status = 422
            return page
        case .success(let valid): choices = valid
        }
        if let invitation, invitation.email == choices.email {
            let (time, week) = (now(), currentWeek)
            let outcome = try await database.perform {
                try $0.acceptInvitation(invitationID: invitation.id, choices: choices, now: time, week: week)
            }
            if case .joined(let ambassador) = outcome { welcome(ambassador) }
            if case .rejoined(let ambassador) = outcome { welcome(ambassador) }
            if case .alreadyActive(let ambassador) = outcome {
                return PageResponse(
                    body: pages.notice("alreadyIn", language: ambassador.language, values: wordValues))
            }
            if outcome != .invalid {
                return PageResponse(body: pages.notice("joined", language: choices.language, values: wordValues))
            }
        }
        // At most a few follow-ups at a time: a flood of sign-ups must not crowd out the links (which share the
        // store's threads). Beyond that the sign-up is dropped, as the rate limits would drop it anyway.
        if followUps.start() {
            let work = self
            Task.detached {
                await work.followUp(choices)
                work.followUps.finish()
            }
        } else {
            logger.notice("a sign-up was dropped: too many at once")
        }
        return PageResponse(body: pages.notice("check", language: choices.language, values: wordValues))
    }

    /// What a valid sign-up leads to, after the answer was sent: a confirmation mail, or "you are already in" for
    /// an active ambassador; nothing beyond the rate limits.
    func followUp(_ choices: MemberForm.Choices) async {
        let (time, week) = (now(), currentWeek)
        let expires = time.addingTimeInterval(Double(membership.signupExpiryDays) * 86_400)
        let token = SecretToken.make()
        let limits = (membership.mailsPerAddressPerDay, membership.mailsPerHour)
        do {
            let known = try await database.perform { database -> Ambassador?? in
                guard
                    try database.allowMembershipMail(
                        to: choices.email, now: time, perAddress: limits.0, perHour: limits.1)
                else { return .none }
                if let existing = try database.ambassador(email: choices.email), existing.status == .active {
                    return .some(existing)
                }
                try database.createSignup(
                    tokenHash: SecretToken.hash(token), choices: choices, now: time, expiresAt: expires)
                return .some(nil)
            }
            switch known {
            case .none:
                logger.notice("a join mail was not sent: rate limit")
            case .some(let active?):
                send(
                    .already, to: active, url: links.preferences(ambassadorID: active.id ?? 0, week: week))
            case .some(nil):
                // The name is not confirmed yet: it stays out of the mail's headers (no stranger's text in To:).
                let message = notices.message(
                    .confirm, to: choices.email, name: "", language: choices.language,
                    url: "\(config.publicBaseURL)/join/confirm/\(token)", values: wordValues, now: time)
                mails.send(notices.outgoing(message))
            }
        } catch {
            logger.error("a sign-up could not be stored: \(error)")
        }
    }

    /// `GET /join/confirm/TOKEN`: a page with the confirm button and what it confirms (address, name, networks,
    /// topics, how often: a sign-up someone else made shows itself before it is pressed); nothing changes. The
    /// words of `problem` (a refused press's), in the sign-up's language, go before the page's message.
    func confirmPage(token: String, csrf: String, language: Language, problem: String? = nil) async throws
        -> PageResponse
    {
        let time = now()
        guard
            let pending = try await database.perform({
                try $0.pendingSignup(tokenHash: SecretToken.hash(token), now: time)
            })
        else { return expired(language) }
        // Confirmed already (this sign-up kept an hour for a second press, or the address active otherwise):
        // pressing would change nothing, so the page says so instead of offering the button.
        if let active = pending.activeLanguage {
            return PageResponse(body: pages.notice("alreadyIn", language: active, values: wordValues))
        }
        let signup = pending.choices
        let words = form.words(signup.language)
        let topics = signup.themes.map { config.plan.label(theme: $0, language: signup.language) }
        var details: [[String: String]] = [
            ["label": words["email"] ?? "", "value": signup.email],
            ["label": words["name"] ?? "", "value": signup.name],
            [
                "label": words["networks"] ?? "",
                "value": signup.networks.map(\.displayName).joined(separator: ", "),
            ],
        ]
        if !topics.isEmpty {
            details.append(["label": words["themes"] ?? "", "value": topics.joined(separator: ", ")])
        }
        details.append([
            "label": words["frequency"] ?? "", "value": words[signup.frequency.rawValue] ?? signup.frequency.rawValue,
        ])
        return PageResponse(
            body: pages.render(
                template: "page.html",
                context: [
                    "lang": signup.language.rawValue, "title": words["confirmTitle"] ?? "",
                    "message": [problem.flatMap { words[$0] }, words["confirmMessage"]].compactMap { $0 }.joined(
                        separator: " "),
                    "hasDetails": true, "details": details, "note": words["confirmNotYours"] ?? "",
                    "csrfForm": ["csrf": csrf, "button": words["confirmButton"] ?? ""],
                ]))
    }

    /// `POST /join/confirm/TOKEN`: activates the person and sends the welcome mail. A press refused for its token
    /// alone (the link opened twice, the second tab's cookie replacing the first's) gets the page again with a
    /// fresh token, as the join form does; one the browser says came from another site, a plain 403.
    func confirm(token: String, csrfValid: Bool, fromThisSite: Bool, csrf: String, language: Language) async throws
        -> PageResponse
    {
        guard csrfValid else {
            guard fromThisSite else {
                return PageResponse(status: 403, body: pages.render("badRequest", language: language))
            }
            var page = try await confirmPage(token: token, csrf: csrf, language: language, problem: "error.csrf")
            if page.status == 200 { page.status = 403 }
            return page
        }
        let (time, week) = (now(), currentWeek)
        let outcome = try await database.perform {
            try $0.confirmSignup(tokenHash: SecretToken.hash(token), now: time, week: week)
        }
        switch outcome {
        case .invalid: return expired(language)
        case .joined(let ambassador), .rejoined(let ambassador):
            welcome(ambassador)
            return PageResponse(body: pages.notice("joined", language: ambassador.language, values: wordValues))
        case .alreadyActive(let ambassador):
            return PageResponse(body: pages.notice("alreadyIn", language: ambassador.language, values: wordValues))
        }
    }

    // MARK: - Parts

    private var rules: MemberForm.Rules {
        MemberForm.Rules(
            allowedDomains: membership.allowedDomains, themes: config.plan.themes,
            today: CalendarDay(now(), in: config.timeZone))
    }

    private var wordValues: [String: Any] {
        ["organization": config.organization, "days": membership.signupExpiryDays]
    }

    private func renderJoin(
        _ values: MemberForm, language: Language, problems: FieldProblems?, csrf: String, invite: String?,
        formError: String? = nil
    ) -> PageResponse {
        var context = form.context(values, language: language, problems: problems, csrf: csrf)
        if let formError { context["formError"] = formError }
        context["closed"] = false
        context["base"] = config.basePath
        context["invite"] = invite ?? ""
        let words = form.words(language)
        context["button"] = invite == nil ? words["joinButton"] : words["joinWithInviteButton"]
        return PageResponse(body: pages.render(template: "join.html", context: context))
    }

    private func closed(_ language: Language) -> PageResponse {
        let context: [String: Any] = ["lang": language.rawValue, "t": form.words(language), "closed": true]
        return PageResponse(body: pages.render(template: "join.html", context: context))
    }

    private func expired(_ language: Language) -> PageResponse {
        PageResponse(
            status: 404,
            body: pages.notice(
                "expired", language: language, values: wordValues,
                link: ("\(config.basePath)/join?lang=\(language.rawValue)", form.words(language)["joinAgain"] ?? "")))
    }

    /// The invitation behind a join link, if the link is genuine, recent and its invitation still exists.
    private func invitation(_ text: String) async throws -> InvitationListing? {
        guard let token = sealer.open(text), token.kind == .invite, !token.test else { return nil }
        let age = now().timeIntervalSince(token.week.start(in: config.timeZone)) / (7 * 86_400)
        guard age <= Double(membership.invitationLinkWeeks + 1) else { return nil }
        return try await database.perform { try $0.invitation(id: token.ambassadorID) }
    }

    private func welcome(_ ambassador: Ambassador) {
        send(.welcome, to: ambassador, url: links.preferences(ambassadorID: ambassador.id ?? 0, week: currentWeek))
    }

    private func send(_ kind: NoticeComposer.Kind, to ambassador: Ambassador, url: String) {
        let message = notices.message(
            kind, to: ambassador.email, name: ambassador.name, language: ambassador.language, url: url,
            values: wordValues, now: now())
        mails.send(notices.outgoing(message))
    }

}

extension Optional {
    /// `flatMap` for an async transform.
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
