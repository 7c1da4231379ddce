#include "server/analytics_service.h"

#include "analytics/held_events.h"
#include "analytics/reports.h"
#include "common/index_layout.h"
#include "operations/purge.h"
#include "query/popularity.h"

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <openssl/crypto.h>
#include <unistd.h>

namespace mixi::server {

using Clock = std::chrono::steady_clock;

Expected<std::unique_ptr<AnalyticsService>> AnalyticsService::start(AnalyticsOptions options) {
    if (!options.now)
        options.now = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
    std::unique_ptr<AnalyticsService> service(new AnalyticsService(options));
    if (options.store.postgres())
        service->keys_.share_secrets(); // no searcher is counted until the day's secret is here
    if (auto opened = service->open_stores(); !opened) {
        // A file that cannot be opened is a mistake to fix; a database server that is down
        // now may come back: serve meanwhile, without popularity, holding events in memory.
        if (!options.store.postgres())
            return std::unexpected(opened.error());
        service->failed("anything (cannot reach it at start)", opened.error());
        service->publish(std::make_shared<Popularity>());
    }
    service->refresh_popular_searches();
    service->last_refresh_ = Clock::now();
    service->purge(); // rows that expired while the server was down
    service->load_held();
    service->schedule_flush();
    service->schedule_purge();
    service->thread_ = std::thread([s = service.get()] { s->ioc_.run(); });
    return service;
}

AnalyticsService::AnalyticsService(AnalyticsOptions options) : options_(std::move(options)) {}

Expected<void> AnalyticsService::open_stores() {
    if (store_ && log_store_)
        return {};
    if (!store_) {
        auto views = analytics::ViewStore::open(options_.store);
        if (!views)
            return std::unexpected(views.error());
        store_.emplace(std::move(*views));
    }
    auto log = analytics::SearchLog::open(options_.store);
    if (!log)
        return std::unexpected(log.error());
    log_store_.emplace(std::move(*log));
    // The first snapshot, with everything stored now.
    auto first = store_->popularity(analytics::day_of(options_.now()), options_.popularity);
    if (!first) {
        log_store_.reset();
        return std::unexpected(first.error());
    }
    (void)store_->changed_elsewhere();
    publish(std::move(*first));
    last_refresh_ = Clock::now();
    if (log_store_->shared())
        refresh_secrets();
    return {};
}

AnalyticsService::~AnalyticsService() {
    // The last flush runs on the service's thread, after which its io_context stops.
    boost::asio::post(ioc_, [this] {
        flush_timer_.cancel();
        purge_timer_.cancel();
        flush();
        save_held();
        ioc_.stop();
    });
    if (thread_.joinable())
        thread_.join();
}

void AnalyticsService::count(std::string_view id, std::string_view region) {
    counter_.add(id, region, analytics::day_of(options_.now()));
}

void AnalyticsService::log_search(analytics::RawSearch search, std::string_view address) {
    // One clock reading decides the search's time and the day of its searcher's salt, under the
    // lock a flush takes to read its own: a search is never stamped before the flush that
    // closed its day, and the day never goes backwards (SearcherKeys clamps it, so does this).
    std::lock_guard lock(pending_mutex_);
    // A flush that waits on a slow store leaves searches here: held up to the same bound (the
    // flush then keeps the newest within it).
    if (pending_.size() >= options_.max_held_events) {
        dropped_.fetch_add(1);
        return;
    }
    const std::int64_t now = options_.now();
    const std::int64_t day = std::max(analytics::day_of(now), last_day_);
    search.time = std::max(now, day * 86400);
    search.searcher.reset();
    if (auto key = keys_.key(day, address)) {
        search.searcher = key->key;
        search.time = std::max(search.time, key->day * 86400);
    }
    last_day_ = std::max(last_day_, analytics::day_of(search.time));
    pending_.push_back(std::move(search));
}

void AnalyticsService::sync() {
    std::promise<void> done;
    auto stored = done.get_future();
    boost::asio::post(ioc_, [this, &done] {
        flush();
        done.set_value();
    });
    stored.wait();
}

Expected<void> AnalyticsService::forget_document(std::string_view id) {
    // On the service's thread, with its connection: counts still in memory are stored first,
    // then deleted with the rest, and the snapshot without them is published before this
    // returns.
    std::promise<Expected<void>> done;
    auto result = done.get_future();
    boost::asio::post(ioc_, [this, &done, id = std::string(id)] {
        flush();
        if (!store_) {
            done.set_value(
                fail(ErrorCode::io_error, "the analytics store cannot be reached right now"));
            return;
        }
        auto removed = store_->remove_document(id);
        if (!removed) {
            done.set_value(std::unexpected(removed.error()));
            return;
        }
        auto snapshot = store_->popularity(analytics::day_of(options_.now()), options_.popularity);
        if (!snapshot) {
            done.set_value(std::unexpected(snapshot.error()));
            return;
        }
        publish(std::move(*snapshot));
        done.set_value({});
    });
    return result.get();
}

void AnalyticsService::schedule_flush() {
    flush_timer_.expires_after(options_.flush_interval);
    flush_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec)
            return; // cancelled: stopping
        tick();
        schedule_flush();
    });
}

void AnalyticsService::schedule_purge() {
    purge_timer_.expires_after(options_.purge_interval);
    purge_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec)
            return;
        purge();
        schedule_purge();
    });
}

void AnalyticsService::refresh_popular_searches() {
    if (!store_ok_.load())
        return; // listed again once the store is back
    auto db = analytics::Database::connect(options_.store);
    if (!db)
        return;
    analytics::ReportRequest r;
    r.kind = analytics::ReportKind::popular;
    const auto period = analytics::report_period(options_.now());
    r.from_day = period.from_day;
    r.to_day = period.to_day;
    r.top = 1000;
    r.k = options_.report_k;
    r.k_distinct = options_.report_k_distinct;
    r.min_days = analytics::popular_min_days;
    auto report = analytics::build_report(*db, r);
    if (!report) {
        std::cerr << "mixi-search: cannot list popular searches: " << report.error().message
                  << "\n";
        return;
    }
    auto terms = std::make_shared<std::vector<std::string>>();
    for (const auto& t : report->terms)
        terms->push_back(t.query);
    popular_.store(std::move(terms));
}

void AnalyticsService::refresh_secrets() {
    // Today's and tomorrow's, so that the first searches after midnight have theirs. Read again
    // at every tick: after a crash of the database emptied the table, every server takes the
    // new secret the first of them made.
    const std::int64_t today = analytics::day_of(options_.now());
    for (const std::int64_t day : {today, today + 1}) {
        auto secret = log_store_->shared_secret(day);
        if (!secret && secret.error().code == ErrorCode::not_found)
            continue; // a day another server has closed (this clock is behind): no secret
        if (!secret) {
            failed("the searcher secret", secret.error());
            return;
        }
        keys_.set_secret(day, *secret);
        OPENSSL_cleanse(secret->data(), secret->size());
    }
}

void AnalyticsService::tick() {
    const auto started = Clock::now();
    if (auto opened = open_stores(); !opened)
        failed("anything", opened.error());
    else if (log_store_->shared())
        refresh_secrets();
    wrote_ = flush() || wrote_;
    const auto took =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
    flush_us_.fetch_add(static_cast<std::uint64_t>(took));
    flushes_.fetch_add(1);
    if (static_cast<std::uint64_t>(took) > flush_max_us_.load())
        flush_max_us_.store(static_cast<std::uint64_t>(took));
    // Popular searches follow the log at most every refresh_interval (a shared store: every
    // server's searches, so at every refresh_interval).
    if ((searches_stored_ || (log_store_ && log_store_->shared())) &&
        Clock::now() - last_popular_ >= options_.refresh_interval) {
        refresh_popular_searches();
        last_popular_ = Clock::now();
        searches_stored_ = false;
    }
    auto elsewhere = store_ ? store_->changed_elsewhere() : Expected<bool>(false);
    // A shared store changes at every other server's flush: their counts are taken like this
    // server's own, at most every refresh_interval.
    if (elsewhere && *elsewhere && store_->shared()) {
        wrote_ = true;
        elsewhere = false;
    }
    // A rebuilt index has new document ids: resolve the snapshot again.
    const bool new_index = !options_.index_dir.empty() &&
                           layout::resolve_database(options_.index_dir).string() != resolved_in_;
    if ((elsewhere && *elsewhere) || new_index ||
        (wrote_ && Clock::now() - last_refresh_ >= options_.refresh_interval)) {
        refresh();
        last_refresh_ = Clock::now();
        wrote_ = false;
    }
}

bool AnalyticsService::flush() {
    // Searches: recorded with the log's rules, then stored as rows and aggregates.
    std::vector<analytics::RawSearch> reports;
    std::int64_t now = 0;
    {
        // One clock reading for the flush, never before a search it takes.
        std::lock_guard lock(pending_mutex_);
        reports.swap(pending_);
        now = options_.now();
        last_day_ = std::max(last_day_, analytics::day_of(now));
        now = std::max(now, last_day_ * 86400);
    }
    for (analytics::RawSearch& r : reports)
        buffer_.record_search(std::move(r));
    if (auto batch = buffer_.take();
        !batch.rows().empty() || !batch.cells.empty() || !batch.volume_only.empty()) {
        held_searches_ += searches_in(batch);
        held_batches_.push_back(std::move(batch));
    }
    // Batches the store could not take before go first, in order.
    bool stored = store_ && log_store_;
    while (!held_batches_.empty()) {
        if (!log_store_) {
            stored = false;
            break;
        }
        if (auto ok = log_store_->add(held_batches_.front()); !ok) {
            failed("the search log", ok.error());
            stored = false;
            break;
        }
        held_searches_ -= searches_in(held_batches_.front());
        held_batches_.pop_front();
        searches_stored_ = true;
    }
    if (!stored) // waiting now: an account deleted meanwhile must not come back with them
        for (auto& batch : held_batches_)
            batch.unlink_accounts();
    // The flush that closes a day folds it.
    if (stored && analytics::day_of(now) != folded_on_)
        fold(now);

    bool wrote = false;
    auto counts = counter_.take();
    if (!counts.empty()) {
        if (!store_) {
            for (const auto& c : counts)
                counter_.add(c.id, c.region, c.day, c.count);
            stored = false;
        } else if (auto ok = store_->add(counts); !ok) {
            // Keep the counts for the next try rather than lose them (up to the bound below).
            for (const auto& c : counts)
                counter_.add(c.id, c.region, c.day, c.count);
            failed("page views", ok.error());
            stored = false;
        } else {
            wrote = true;
        }
    }
    hold_within_bound();
    if (stored && held_from_file_) {
        // Everything read back at start is stored now.
        std::error_code ec;
        std::filesystem::remove(held_path(), ec);
        held_from_file_ = false;
    }
    if (stored && !store_ok_.load()) {
        std::cerr << "mixi-search: the analytics store is back; every held event is stored\n";
        store_ok_.store(true);
    }
    return wrote;
}

std::uint64_t AnalyticsService::searches_in(const analytics::SearchLogBuffer::Batch& batch) {
    std::uint64_t n = 0;
    for (const auto& [key, cell] : batch.cells)
        n += static_cast<std::uint64_t>(cell.searches);
    for (const auto& [key, counts] : batch.volume_only)
        n += static_cast<std::uint64_t>(counts.first);
    return n;
}

void AnalyticsService::hold_within_bound() {
    // Past the bound, the oldest searches go first, then view counts; each one dropped is
    // counted (/metrics).
    const std::uint64_t bound = options_.max_held_events;
    while (!held_batches_.empty() && held_searches_ + counter_.pending() > bound) {
        const std::uint64_t n = searches_in(held_batches_.front());
        held_searches_ -= n;
        dropped_.fetch_add(n);
        held_batches_.pop_front();
    }
    if (held_searches_ + counter_.pending() > bound) {
        std::uint64_t views = 0;
        for (const auto& c : counter_.take())
            views += static_cast<std::uint64_t>(c.count);
        dropped_.fetch_add(views);
    }
    held_.store(held_searches_ + counter_.pending());
}

void AnalyticsService::failed(std::string_view what, const Error& error) {
    // Said once when the store stops answering, not at every flush.
    if (store_ok_.exchange(false))
        std::cerr << "mixi-search: cannot store " << what << ": " << error.message
                  << "; holding events in memory (up to analytics.max_held_events) and retrying"
                     " at every flush\n";
}

namespace {

std::uint64_t views_in(const std::vector<analytics::ViewCount>& views) {
    std::uint64_t n = 0;
    for (const auto& v : views)
        n += static_cast<std::uint64_t>(v.count);
    return n;
}

/// Writes `text` to `path` with mode 0600 through a temporary file renamed over it, so that the
/// file is whole or absent.
Expected<void> write_whole(const std::filesystem::path& path, std::string_view text) {
    const std::filesystem::path temporary = path.string() + ".tmp";
    auto failure = [&](const char* what) {
        const std::string reason = std::strerror(errno);
        ::unlink(temporary.c_str());
        return fail(ErrorCode::io_error,
                    std::string(what) + " " + temporary.string() + ": " + reason);
    };
    ::unlink(temporary.c_str()); // a leftover keeps its mode otherwise
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return failure("cannot create");
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ::close(fd);
            return failure("cannot write");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        ::close(fd);
        return failure("cannot sync");
    }
    if (::close(fd) != 0)
        return failure("cannot close");
    if (::rename(temporary.c_str(), path.c_str()) != 0)
        return failure("cannot rename");
    if (const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        dir >= 0) {
        (void)::fsync(dir);
        ::close(dir);
    }
    return {};
}

} // namespace

void AnalyticsService::save_held() {
    if (options_.data_dir.empty())
        return;
    std::error_code ec;
    if (held_batches_.empty() && counter_.pending() == 0) {
        std::filesystem::remove(held_path(), ec); // stored, or dropped past the bound
        return;
    }
    analytics::HeldEvents held;
    held.batches.assign(std::make_move_iterator(held_batches_.begin()),
                        std::make_move_iterator(held_batches_.end()));
    held_batches_.clear();
    held.views = counter_.take();
    const std::uint64_t searches = held_searches_, views = views_in(held.views);
    std::filesystem::create_directories(options_.data_dir, ec);
    if (auto saved = write_whole(held_path(), analytics::held_events_text(held)); !saved)
        std::cerr << "mixi-search: cannot save the " << searches << " searches and " << views
                  << " views held for the analytics store: " << saved.error().message
                  << "; they are lost\n";
    else
        std::cerr << "mixi-search: the analytics store cannot be reached: " << searches
                  << " searches and " << views << " views held are saved in "
                  << held_path().string() << " and stored after the next start\n";
}

void AnalyticsService::load_held() {
    if (options_.data_dir.empty())
        return;
    const std::filesystem::path path = held_path();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !ec)
        return;
    Expected<analytics::HeldEvents> held =
        fail(ErrorCode::io_error, "cannot read it" + (ec ? ": " + ec.message() : ""));
    if (!ec) {
        std::ifstream in(path, std::ios::binary);
        std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (in.is_open() && !in.bad())
            held = analytics::parse_held_events(text);
        OPENSSL_cleanse(text.data(), text.size());
    }
    if (!held) {
        const std::filesystem::path aside = path.string() + ".bad";
        std::filesystem::rename(path, aside, ec);
        std::cerr << "mixi-search: the analytics held when the server last stopped ("
                  << path.string() << ") cannot be read: " << held.error().message << "; "
                  << (ec ? "cannot move it aside (" + ec.message() + ")"
                         : "moved to " + aside.string())
                  << ", starting without them\n";
        return;
    }
    std::uint64_t searches = 0;
    for (auto& batch : held->batches) {
        searches += searches_in(batch);
        held_batches_.push_back(std::move(batch));
    }
    held_searches_ += searches;
    for (const auto& v : held->views)
        counter_.add(v.id, v.region, v.day, v.count);
    held_from_file_ = true;
    hold_within_bound();
    std::cerr << "mixi-search: " << searches << " searches and " << views_in(held->views)
              << " views held when the server last stopped are read back from " << path.string()
              << "; stored at the next flush\n";
}

AnalyticsHealth AnalyticsService::health() const {
    return {store_ok_.load(), held_.load(), dropped_.load()};
}

std::string AnalyticsService::metrics_text() const {
    const AnalyticsHealth h = health();
    return "# HELP mixi_analytics_store_up 1 when the last flush reached the analytics store.\n"
           "# TYPE mixi_analytics_store_up gauge\n"
           "mixi_analytics_store_up " +
           std::to_string(h.store_ok ? 1 : 0) +
           "\n# HELP mixi_analytics_held_events Searches and view counts held in memory for the"
           " store.\n# TYPE mixi_analytics_held_events gauge\nmixi_analytics_held_events " +
           std::to_string(h.held_events) +
           "\n# HELP mixi_analytics_dropped_events_total Searches and views dropped because the"
           " store was away past analytics.max_held_events.\n"
           "# TYPE mixi_analytics_dropped_events_total counter\n"
           "mixi_analytics_dropped_events_total " +
           std::to_string(h.dropped_events) +
           "\n# HELP mixi_analytics_flush_seconds Time of each flush to the analytics store.\n"
           "# TYPE mixi_analytics_flush_seconds summary\nmixi_analytics_flush_seconds_sum " +
           std::to_string(static_cast<double>(flush_us_.load()) / 1e6) +
           "\nmixi_analytics_flush_seconds_count " + std::to_string(flushes_.load()) +
           "\n# HELP mixi_analytics_flush_seconds_max The longest flush since start.\n"
           "# TYPE mixi_analytics_flush_seconds_max gauge\nmixi_analytics_flush_seconds_max " +
           std::to_string(static_cast<double>(flush_max_us_.load()) / 1e6) + "\n";
}

void AnalyticsService::refresh() {
    if (!store_)
        return;
    auto snapshot = store_->popularity(analytics::day_of(options_.now()), options_.popularity);
    if (!snapshot) {
        failed("popularity", snapshot.error());
        return;
    }
    publish(std::move(*snapshot));
}

void AnalyticsService::publish(std::shared_ptr<Popularity> snapshot) {
    if (!options_.index_dir.empty()) {
        const auto path = layout::resolve_database(options_.index_dir);
        resolved_in_ = path.string();
        if (!path.empty()) {
            // On failure the searchers resolve it themselves, as they can.
            if (auto resolved = query::resolve_in(*snapshot, path); !resolved)
                std::cerr << "mixi-search: cannot read the index for popularity: "
                          << resolved.error().message << "\n";
        }
    }
    snapshot_.store(std::move(snapshot));
}

void AnalyticsService::fold(std::int64_t now) {
    if (!log_store_)
        return;
    if (auto report = log_store_->fold(now, options_.retention); !report)
        failed("the folded aggregates", report.error());
    else
        folded_on_ = analytics::day_of(now);
}

void AnalyticsService::purge() {
    operations::PurgeOptions purge;
    purge.store = options_.store;
    purge.index = options_.index_dir;
    purge.log = options_.retention;
    purge.view_retention_days = options_.view_retention_days;
    {
        // The day never goes back, whatever the clock does.
        std::lock_guard lock(pending_mutex_);
        purge.now = std::max(options_.now(), last_day_ * 86400);
    }
    // Counts it removes are another connection's change: the next tick rebuilds the snapshot.
    if (auto report = operations::purge_expired(purge); !report)
        std::cerr << "mixi-search: cannot purge expired data: " << report.error().message << "\n";
}

} // namespace mixi::server
