#include "server/geoip.h"

#include <arpa/inet.h>
#include <cstring>
#include <maxminddb.h>
#include <netinet/in.h>

namespace mixi::server {

struct GeoIp::Db {
    MMDB_s mmdb{};
    bool opened = false;
    ~Db() {
        if (opened)
            MMDB_close(&mmdb);
    }
};

namespace {

/// A two-letter code at `path` in the entry, or "".
std::string code_at(MMDB_entry_s& entry, const char* const* path, int* error) {
    MMDB_entry_data_s data{};
    const int status = MMDB_aget_value(&entry, &data, path);
    if (status != MMDB_SUCCESS) {
        if (status != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR &&
            status != MMDB_INVALID_LOOKUP_PATH_ERROR)
            *error = status;
        return "";
    }
    if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size != 2)
        return "";
    std::string code(data.utf8_string, 2);
    for (char& c : code) {
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return "";
    }
    return code;
}

/// The region of `address`, or "ZZ"; `error` is set to a libmaxminddb error code when the
/// database could not answer.
std::string lookup(const MMDB_s& mmdb, const boost::asio::ip::address& address, RegionLevel level,
                   int* error) {
    sockaddr_storage storage{};
    if (address.is_v4()) {
        auto* in = reinterpret_cast<sockaddr_in*>(&storage);
        in->sin_family = AF_INET;
        const auto bytes = address.to_v4().to_bytes();
        std::memcpy(&in->sin_addr, bytes.data(), bytes.size());
    } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
        in6->sin6_family = AF_INET6;
        const auto bytes = address.to_v6().to_bytes();
        std::memcpy(&in6->sin6_addr, bytes.data(), bytes.size());
    }
    int mmdb_error = MMDB_SUCCESS;
    MMDB_lookup_result_s result =
        MMDB_lookup_sockaddr(&mmdb, reinterpret_cast<const sockaddr*>(&storage), &mmdb_error);
    if (mmdb_error != MMDB_SUCCESS) {
        *error = mmdb_error;
        return "ZZ";
    }
    if (!result.found_entry)
        return "ZZ";
    std::string code;
    if (level == RegionLevel::continent) {
        static const char* const continent[] = {"continent", "code", nullptr};
        code = code_at(result.entry, continent, error);
    } else {
        // GeoIP2/GeoLite2 country and city databases, then the {"country_code": "JP"} layout
        // of other country databases.
        static const char* const country[] = {"country", "iso_code", nullptr};
        static const char* const country_code[] = {"country_code", nullptr};
        code = code_at(result.entry, country, error);
        if (code.empty())
            code = code_at(result.entry, country_code, error);
    }
    return code.empty() ? "ZZ" : code;
}

} // namespace

GeoIp::GeoIp(std::unique_ptr<Db> db) : db_(std::move(db)) {}
GeoIp::GeoIp(GeoIp&&) noexcept = default;
GeoIp& GeoIp::operator=(GeoIp&&) noexcept = default;
GeoIp::~GeoIp() = default;

Expected<GeoIp> GeoIp::open(const std::filesystem::path& path) {
    auto db = std::make_unique<Db>();
    const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db->mmdb);
    if (status != MMDB_SUCCESS) {
        std::string reason = MMDB_strerror(status);
        if (status == MMDB_IO_ERROR)
            reason += std::string(" (") + std::strerror(errno) + ")";
        return fail(ErrorCode::invalid_input,
                    "cannot open GeoIP database " + path.string() + ": " + reason);
    }
    db->opened = true;
    // Probe addresses across both address families: a broken search tree or data section
    // shows here rather than on a visitor's request.
    static const char* const probes[] = {"1.0.0.1",     "8.8.8.8",      "81.2.69.160",
                                         "128.0.0.1",   "175.16.199.1", "223.255.255.1",
                                         "2001:218::1", "2a02:d3c0::1", "2c0f:ff00::1"};
    for (const char* probe : probes) {
        int error = MMDB_SUCCESS;
        boost::system::error_code ec;
        const auto address = boost::asio::ip::make_address(probe, ec);
        if (db->mmdb.metadata.ip_version == 4 && !address.is_v4())
            continue;
        (void)lookup(db->mmdb, address, RegionLevel::country, &error);
        if (error == MMDB_SUCCESS)
            (void)lookup(db->mmdb, address, RegionLevel::continent, &error);
        if (error != MMDB_SUCCESS)
            return fail(ErrorCode::invalid_input,
                        "GeoIP database " + path.string() + " is damaged: " + MMDB_strerror(error));
    }
    return GeoIp(std::move(db));
}

std::string GeoIp::region(const boost::asio::ip::address& address, RegionLevel level) const {
    int error = MMDB_SUCCESS;
    boost::asio::ip::address a = address;
    // An IPv4 address seen through an IPv6 socket (::ffff:1.2.3.4) is looked up as IPv4.
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        a = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
    if (db_->mmdb.metadata.ip_version == 4 && !a.is_v4())
        return "ZZ";
    return lookup(db_->mmdb, a, level, &error);
}

} // namespace mixi::server
