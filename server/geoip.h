// Client address -> region code, with a MaxMind DB (libmaxminddb, memory-mapped). The address
// is looked up and forgotten: nothing here stores or logs it.
#pragma once

#include "common/error.h"

#include <boost/asio/ip/address.hpp>
#include <filesystem>
#include <memory>
#include <string>

namespace mixi::server {

/// How coarse a region is: never finer than a country.
enum class RegionLevel { country, continent };

class GeoIp {
  public:
    /// Opens an mmdb file and checks that it answers lookups (a database whose search tree or
    /// data section is broken fails here, not on the first request).
    static Expected<GeoIp> open(const std::filesystem::path& path);

    GeoIp(GeoIp&&) noexcept;
    GeoIp& operator=(GeoIp&&) noexcept;
    ~GeoIp();

    /// The ISO 3166-1 country code ("JP") or continent code ("AS") of an address; "ZZ" when
    /// the database does not know it or a lookup fails. Safe from many threads at once.
    std::string region(const boost::asio::ip::address& address, RegionLevel level) const;

  private:
    struct Db;
    explicit GeoIp(std::unique_ptr<Db> db);
    std::unique_ptr<Db> db_;
};

} // namespace mixi::server
