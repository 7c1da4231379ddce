#include "server/metrics.h"

#include <sstream>

namespace mixi::server {

Metrics::Metrics() : start_(std::chrono::steady_clock::now()) {}

double Metrics::uptime_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Metrics::record(std::string_view route, unsigned status, std::chrono::nanoseconds d) {
    const double seconds = std::chrono::duration<double>(d).count();
    std::lock_guard lock(mutex_);
    auto it = routes_.find(route);
    if (it == routes_.end())
        it = routes_.emplace(std::string(route), RouteStats{}).first;
    ++it->second.statuses[status];
    Histogram& h = it->second.latency;
    for (std::size_t i = 0; i < bounds_.size(); ++i)
        if (seconds <= bounds_[i])
            ++h.buckets[i];
    ++h.count;
    h.sum += seconds;
}

std::string Metrics::render() const {
    std::ostringstream out;
    out << "# HELP mixi_http_requests_total HTTP requests answered, by route and status.\n"
        << "# TYPE mixi_http_requests_total counter\n";
    std::lock_guard lock(mutex_);
    for (const auto& [route, stats] : routes_)
        for (const auto& [status, n] : stats.statuses)
            out << "mixi_http_requests_total{route=\"" << route << "\",status=\"" << status
                << "\"} " << n << "\n";
    out << "# HELP mixi_http_request_duration_seconds Time from a complete request to its "
           "response being written.\n"
        << "# TYPE mixi_http_request_duration_seconds histogram\n";
    for (const auto& [route, stats] : routes_) {
        const Histogram& h = stats.latency;
        for (std::size_t i = 0; i < bounds_.size(); ++i)
            out << "mixi_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\""
                << bounds_[i] << "\"} " << h.buckets[i] << "\n";
        out << "mixi_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} "
            << h.count << "\n"
            << "mixi_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n"
            << "mixi_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.count
            << "\n";
    }
    out << "# HELP mixi_http_requests_in_flight Requests being answered now.\n"
        << "# TYPE mixi_http_requests_in_flight gauge\n"
        << "mixi_http_requests_in_flight " << in_flight() << "\n"
        << "# HELP mixi_http_connections Open client connections.\n"
        << "# TYPE mixi_http_connections gauge\n"
        << "mixi_http_connections " << connections() << "\n"
        << "# HELP mixi_index_documents Documents in the index being searched.\n"
        << "# TYPE mixi_index_documents gauge\n"
        << "mixi_index_documents " << documents_.load() << "\n"
        << "# HELP mixi_index_revision Revision of the index being searched.\n"
        << "# TYPE mixi_index_revision gauge\n"
        << "mixi_index_revision " << revision_.load() << "\n"
        << "# HELP mixi_index_reopens_total Times a reader picked up a changed index.\n"
        << "# TYPE mixi_index_reopens_total counter\n"
        << "mixi_index_reopens_total " << reopens_.load() << "\n"
        << "# HELP mixi_handler_exceptions_total Requests whose handler threw (answered 500).\n"
        << "# TYPE mixi_handler_exceptions_total counter\n"
        << "mixi_handler_exceptions_total " << handler_exceptions_.load() << "\n"
        << "# HELP mixi_uptime_seconds Seconds since the server started.\n"
        << "# TYPE mixi_uptime_seconds gauge\n"
        << "mixi_uptime_seconds " << uptime_seconds() << "\n";
    return out.str();
}

} // namespace mixi::server
