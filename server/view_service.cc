#include "server/view_service.h"

#include <iostream>

namespace mixi::server {

using Clock = std::chrono::steady_clock;

namespace {

std::int64_t today() {
    return analytics::day_of(std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
}

} // namespace

Expected<std::unique_ptr<ViewService>> ViewService::start(ViewServiceOptions options) {
    auto store = analytics::ViewStore::open(options.data_dir);
    if (!store)
        return std::unexpected(store.error());
    std::unique_ptr<ViewService> service(new ViewService(options, std::move(*store)));
    auto first = service->store_.popularity(today(), options.popularity);
    if (!first)
        return std::unexpected(first.error());
    (void)service->store_.changed_elsewhere(); // the first snapshot has everything stored now
    service->snapshot_.store(*first);
    service->thread_ = std::thread([s = service.get()] { s->loop(); });
    return service;
}

ViewService::ViewService(ViewServiceOptions options, analytics::ViewStore store)
    : options_(std::move(options)), store_(std::move(store)) {}

ViewService::~ViewService() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void ViewService::count(std::string_view id, std::string_view region) {
    counter_.add(id, region, today());
}

void ViewService::loop() {
    auto last_refresh = Clock::now();
    bool wrote = false; // since the last refresh
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, options_.flush_interval, [this] { return stopping_; });
        lock.unlock();
        wrote = flush() || wrote;
        auto elsewhere = store_.changed_elsewhere();
        if ((elsewhere && *elsewhere) ||
            (wrote && Clock::now() - last_refresh >= options_.refresh_interval)) {
            refresh();
            last_refresh = Clock::now();
            wrote = false;
        }
        lock.lock();
    }
    lock.unlock();
    flush(); // what was counted since the last flush
}

bool ViewService::flush() {
    auto counts = counter_.take();
    if (counts.empty())
        return false;
    if (auto ok = store_.add(counts); !ok) {
        // Keep the counts for the next try rather than lose them.
        for (const auto& c : counts)
            counter_.add(c.id, c.region, c.day, c.count);
        std::cerr << "mixi-search: cannot store page views: " << ok.error().message << "\n";
        return false;
    }
    return true;
}

void ViewService::refresh() {
    auto snapshot = store_.popularity(today(), options_.popularity);
    if (!snapshot) {
        std::cerr << "mixi-search: cannot rebuild popularity: " << snapshot.error().message << "\n";
        return;
    }
    snapshot_.store(*snapshot);
}

} // namespace mixi::server
