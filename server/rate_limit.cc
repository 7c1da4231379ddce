#include "server/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace mixi::server {

std::string client_key(const boost::asio::ip::address& address) {
    if (address.is_v4())
        return address.to_string();
    const auto v6 = address.to_v6();
    if (v6.is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

std::optional<int> RateLimiter::take(const std::string& client, Clock::time_point now) {
    if (rate_ <= 0)
        return std::nullopt;
    std::lock_guard lock(mutex_);
    auto refill = [&](Bucket& b) {
        const double seconds = std::chrono::duration<double>(now - b.last).count();
        b.tokens = std::min(burst_, b.tokens + seconds * rate_);
        b.last = now;
    };
    // Forget clients whose buckets have filled up again (at most once a second).
    if (now - last_sweep_ >= std::chrono::seconds(1)) {
        last_sweep_ = now;
        for (auto it = buckets_.begin(); it != buckets_.end();) {
            refill(it->second);
            it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
        }
    }
    auto [it, inserted] = buckets_.try_emplace(client, Bucket{burst_, now});
    Bucket& b = it->second;
    if (!inserted)
        refill(b);
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return std::nullopt;
    }
    return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
}

void RateLimiter::give_back(const std::string& client) {
    std::lock_guard lock(mutex_);
    if (auto it = buckets_.find(client); it != buckets_.end())
        it->second.tokens = std::min(burst_, it->second.tokens + 1);
}

} // namespace mixi::server
