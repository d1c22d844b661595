import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// A small blocking pool of PostgreSQL connections for the store's synchronous calls: at most ``capacity`` open,
/// idle ones reused, closed ones dropped.
final class PostgresConnectionPool: Sendable {
    let location: PostgresLocation
    let capacity: Int
    let logger: Logger
    private let idle = NIOLockedValueBox([PostgresConnection]())
    private let slots: DispatchSemaphore
    private let nextID = NIOLockedValueBox(1)

    init(location: PostgresLocation, capacity: Int = 8) {
        self.location = location
        self.capacity = capacity
        self.slots = DispatchSemaphore(value: capacity)
        var logger = Logger(label: "advocate.postgres")
        logger.logLevel = .critical
        self.logger = logger
    }

    deinit { close() }

    /// The store's own event loop: the HTTP server's loops are busy under load, and a database answer queued
    /// behind HTTP work would hold up every click of a batch.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    /// Opens a new connection; `name` is shown in pg_stat_activity.
    func connect(name: String = "advocate") throws -> PostgresConnection {
        var configuration: PostgresConnection.Configuration
        if let socket = location.socketDirectory {
            configuration = .init(
                unixSocketPath: socket + "/.s.PGSQL.\(location.port)", username: location.user,
                password: location.password, database: location.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch location.tls {
            case .disable: tls = .disable
            case .require:
                do { tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration())) } catch {
                    throw StoreError.unavailable(path: location.description, reason: "TLS: \(error)")
                }
            }
            configuration = .init(
                host: location.host, port: location.port, username: location.user, password: location.password,
                database: location.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(10)
        // The server probes an idle connection after 30 s, every 10 s, and drops it after 3 unanswered probes: the
        // session of a machine that lost power or its network ends (and its locks go) in about a minute, not after
        // the kernel's two hours.
        configuration.options.additionalStartupParameters = [
            ("application_name", name), ("tcp_keepalives_idle", "30"), ("tcp_keepalives_interval", "10"),
            ("tcp_keepalives_count", "3"),
        ]
        let id = nextID.withLockedValue { id in
            defer { id += 1 }
            return id
        }
        do {
            return try PostgresConnection.connect(
                on: Self.eventLoops.next(), configuration: configuration, id: id,
                logger: logger
            ).wait()
        } catch let error as PSQLError {
            throw PostgresErrors.storeError(error, location: location)
        } catch {
            throw StoreError.unavailable(path: location.description, reason: "cannot connect (\(error))")
        }
    }

    /// Runs `body` on a connection of the pool, waiting for one when all are busy. Idle connections the server
    /// closed meanwhile (a restart, an idle timeout, a terminated backend) are dropped, not handed out. With
    /// `idempotent` (reads), a body that fails because its reused connection turns out closed runs once more on a
    /// new one: the server may have closed it just before the query went out, before that was noticed here.
    func withConnection<T>(idempotent: Bool = false, _ body: (PostgresConnection) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        var reused = idle.withLockedValue { idle -> PostgresConnection? in
            while let connection = idle.popLast() {
                if !connection.isClosed { return connection }
            }
            return nil
        }
        while true {
            let connection = try reused ?? connect()
            do {
                let result = try body(connection)
                release(connection)
                return result
            } catch {
                release(connection)
                guard idempotent, reused != nil, connection.isClosed else { throw error }
                reused = nil
            }
        }
    }

    private func release(_ connection: PostgresConnection) {
        if connection.isClosed { return }
        idle.withLockedValue { $0.append(connection) }
    }

    /// Closes the idle connections.
    func close() {
        for connection in idle.withLockedValue({ connections in
            defer { connections = [] }
            return connections
        }) {
            try? connection.close().wait()
        }
    }
}
