import Hummingbird
import NIOCore
import Prometheus

/// `GET /metrics`: the server's figures in Prometheus' text format, for the same bearer token as the dashboard's
/// scripts (Prometheus sends it with `authorization: {credentials: …}`). Without ADVOCATE_ADMIN_TOKEN, or without a
/// registry (the server built in-process by tests), the route does not exist.
func addMetricsRoute(
    to router: Router<AdvocateRequestContext>, registry: PrometheusCollectorRegistry?, adminToken: String?
) {
    guard let registry, let adminToken else { return }
    router.get("/metrics") { request, _ in
        guard AdminAuth.allows(request.headers[.authorization], token: adminToken) else {
            return Response(
                status: .unauthorized,
                headers: [.wwwAuthenticate: "Bearer realm=\"advocate\"", .cacheControl: "no-store"])
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}
