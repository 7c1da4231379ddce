// Counters for GET /metrics in the Prometheus text format. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace mixi::server {

class Metrics {
  public:
    Metrics();

    /// One answered request: its route (a fixed name, never the raw path), status and time.
    void record(std::string_view route, unsigned status, std::chrono::nanoseconds duration);

    void request_started() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
    void request_finished() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
    std::int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

    void index_seen(std::uint64_t documents, std::uint64_t revision) {
        documents_.store(documents, std::memory_order_relaxed);
        revision_.store(revision, std::memory_order_relaxed);
    }
    void reopened() { reopens_.fetch_add(1, std::memory_order_relaxed); }
    /// A handler threw and the request was answered 500.
    void handler_exception() { handler_exceptions_.fetch_add(1, std::memory_order_relaxed); }
    void connection_opened() { connections_.fetch_add(1, std::memory_order_relaxed); }
    void connection_closed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
    std::int64_t connections() const { return connections_.load(std::memory_order_relaxed); }

    double uptime_seconds() const;

    /// The exposition text.
    std::string render() const;

  private:
    static constexpr std::array<double, 12> bounds_ = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05,   0.1,   0.25,   0.5,   1,    2.5};
    struct Histogram {
        std::array<std::uint64_t, bounds_.size()> buckets{};
        std::uint64_t count = 0;
        double sum = 0;
    };
    struct RouteStats {
        std::map<unsigned, std::uint64_t> statuses; ///< requests by status
        Histogram latency;
    };
    mutable std::mutex mutex_;
    /// By route name; std::less<> finds a known route without building a key string.
    std::map<std::string, RouteStats, std::less<>> routes_;
    std::atomic<std::int64_t> in_flight_{0}, connections_{0};
    std::atomic<std::uint64_t> documents_{0}, revision_{0}, reopens_{0}, handler_exceptions_{0};
    std::chrono::steady_clock::time_point start_;
};

} // namespace mixi::server
