// The server's side of page views: counts in memory (analytics::ViewCounter), a background
// thread that flushes them to the store every few seconds and rebuilds the popularity snapshot
// when the stored counts changed, and the snapshot every search ranks with. Requests never
// wait for SQLite.
#pragma once

#include "analytics/views.h"
#include "common/error.h"
#include "query/popularity.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

namespace mixi::server {

struct ViewServiceOptions {
    std::filesystem::path data_dir;
    std::chrono::milliseconds flush_interval{5'000};
    /// This server's own flushes are reflected in the snapshot at most this often; counts
    /// another process stored (an import) at the next flush tick.
    std::chrono::milliseconds refresh_interval{60'000};
    analytics::PopularityOptions popularity;
};

class ViewService {
  public:
    /// Opens the store, builds the first snapshot and starts the background thread.
    static Expected<std::unique_ptr<ViewService>> start(ViewServiceOptions options);
    /// Stops the thread after a last flush.
    ~ViewService();

    /// One view of document `id` from `region`, today.
    void count(std::string_view id, std::string_view region);
    /// The snapshot to rank with now.
    query::PopularitySnapshot popularity() const { return snapshot_.load(); }
    /// Counts taken from memory but not stored (a failing disk); kept for the next flush.
    std::size_t pending() const { return counter_.pending(); }

  private:
    ViewService(ViewServiceOptions options, analytics::ViewStore store);
    void loop();
    bool flush();
    void refresh();

    ViewServiceOptions options_;
    analytics::ViewStore store_; ///< used by the background thread only
    analytics::ViewCounter counter_;
    std::atomic<query::PopularitySnapshot> snapshot_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace mixi::server
