#include "common/stored_data.h"

#include <cstring>
#include <zdict.h>
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

ZSTD_CCtx* thread_cctx() {
    thread_local std::unique_ptr<ZSTD_CCtx, FreeCCtx> cctx(ZSTD_createCCtx());
    return cctx.get();
}

/// Compresses `json` with `cdict` (none: plain), or returns it as it is when that fails.
std::string compress(std::string_view json, const ZSTD_CDict* cdict) {
    ZSTD_CCtx* cctx = thread_cctx();
    if (!cctx)
        return std::string(json);
    std::string out(ZSTD_compressBound(json.size()), '\0');
    const std::size_t n =
        cdict ? ZSTD_compress_usingCDict(cctx, out.data(), out.size(), json.data(), json.size(),
                                         cdict)
              : ZSTD_compressCCtx(cctx, out.data(), out.size(), json.data(), json.size(), level);
    if (ZSTD_isError(n)) // cannot happen with a bound-sized buffer; keep the data readable
        return std::string(json);
    out.resize(n);
    return out;
}

} // namespace

std::string pack_stored(std::string_view json) {
    return compress(json, nullptr);
}

std::string train_stored_dictionary(const std::vector<std::string>& samples,
                                    std::size_t max_bytes) {
    std::string joined;
    std::vector<std::size_t> sizes;
    for (const std::string& s : samples) {
        joined += s;
        sizes.push_back(s.size());
    }
    std::string dictionary(max_bytes, '\0');
    const std::size_t n = ZDICT_trainFromBuffer(dictionary.data(), dictionary.size(), joined.data(),
                                                sizes.data(), static_cast<unsigned>(sizes.size()));
    if (ZDICT_isError(n))
        return {};
    dictionary.resize(n);
    return dictionary;
}

StoredPacker::StoredPacker(std::string_view dictionary)
    : cdict_(ZSTD_createCDict(dictionary.data(), dictionary.size(), level),
             [](void* c) { ZSTD_freeCDict(static_cast<ZSTD_CDict*>(c)); }) {}

std::string StoredPacker::pack(std::string_view json) const {
    return compress(json, static_cast<const ZSTD_CDict*>(cdict_.get()));
}

bool StoredDictionaries::add(std::string_view dictionary) {
    const unsigned id = ZSTD_getDictID_fromDict(dictionary.data(), dictionary.size());
    if (id == 0) // not a zstd dictionary (raw content is not what we write)
        return false;
    std::shared_ptr<void> ddict(ZSTD_createDDict(dictionary.data(), dictionary.size()),
                                [](void* d) { ZSTD_freeDDict(static_cast<ZSTD_DDict*>(d)); });
    if (!ddict)
        return false;
    ddicts_[id] = std::move(ddict);
    return true;
}

const void* StoredDictionaries::find(unsigned id) const {
    const auto it = ddicts_.find(id);
    return it == ddicts_.end() ? nullptr : it->second.get();
}

std::string unpack_stored(std::string_view data, const StoredDictionaries* dictionaries) {
    if (data.size() < sizeof zstd_magic || std::memcmp(data.data(), zstd_magic, sizeof zstd_magic))
        return std::string(data);
    const unsigned long long size = ZSTD_getFrameContentSize(data.data(), data.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1u << 30))
        return {};
    const ZSTD_DDict* ddict = nullptr;
    if (const unsigned id = ZSTD_getDictID_fromFrame(data.data(), data.size()); id != 0) {
        ddict = dictionaries ? static_cast<const ZSTD_DDict*>(dictionaries->find(id)) : nullptr;
        if (!ddict)
            return {};
    }
    thread_local std::unique_ptr<ZSTD_DCtx, FreeDCtx> dctx(ZSTD_createDCtx());
    if (!dctx)
        return {};
    std::string out(size, '\0');
    const std::size_t n = ZSTD_decompress_usingDDict(dctx.get(), out.data(), out.size(),
                                                     data.data(), data.size(), ddict);
    if (ZSTD_isError(n) || n != size)
        return {};
    return out;
}

} // namespace mixi::schema
