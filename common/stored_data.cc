#include "common/stored_data.h"

#include <cstring>
#include <memory>
#include <zstd.h>

namespace mixi::schema {

namespace {

constexpr unsigned char zstd_magic[4] = {0x28, 0xB5, 0x2F, 0xFD}; // ZSTD_MAGICNUMBER, little-endian
constexpr int level = 3;                                          // zstd's default

struct FreeCCtx {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct FreeDCtx {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

} // namespace

std::string pack_stored(std::string_view json) {
    thread_local std::unique_ptr<ZSTD_CCtx, FreeCCtx> cctx(ZSTD_createCCtx());
    if (!cctx)
        return std::string(json);
    std::string out(ZSTD_compressBound(json.size()), '\0');
    const std::size_t n =
        ZSTD_compressCCtx(cctx.get(), out.data(), out.size(), json.data(), json.size(), level);
    if (ZSTD_isError(n)) // cannot happen with a bound-sized buffer; keep the data readable
        return std::string(json);
    out.resize(n);
    return out;
}

std::string unpack_stored(std::string_view data) {
    if (data.size() < sizeof zstd_magic || std::memcmp(data.data(), zstd_magic, sizeof zstd_magic))
        return std::string(data);
    const unsigned long long size = ZSTD_getFrameContentSize(data.data(), data.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1u << 30))
        return {};
    thread_local std::unique_ptr<ZSTD_DCtx, FreeDCtx> dctx(ZSTD_createDCtx());
    if (!dctx)
        return {};
    std::string out(size, '\0');
    const std::size_t n =
        ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), data.data(), data.size());
    if (ZSTD_isError(n) || n != size)
        return {};
    return out;
}

} // namespace mixi::schema
