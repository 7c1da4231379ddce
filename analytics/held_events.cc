#include "analytics/held_events.h"

#include <boost/json.hpp>
#include <stdexcept>

namespace mixi::analytics {

namespace json = boost::json;

namespace {

constexpr std::string_view format_name = "mixi-search held analytics";
constexpr std::int64_t format_version = 1;

std::int64_t int_at(const json::object& o, std::string_view key) {
    return o.at(key).to_number<std::int64_t>();
}

std::uint64_t uint_at(const json::object& o, std::string_view key) {
    return o.at(key).to_number<std::uint64_t>();
}

std::string string_at(const json::object& o, std::string_view key) {
    return std::string(o.at(key).as_string());
}

} // namespace

/// Batch::rows_ is written only by SearchLogBuffer::take and, for a batch held by a stopped
/// server, here.
struct HeldEventsCodec {
    static json::object batch(const SearchLogBuffer::Batch& b) {
        json::array rows, volume, cells;
        for (const SearchEvent& e : b.rows())
            rows.push_back(json::object{{"time", e.time - e.time % 3600}, // the hour, as stored
                                        {"query", e.query},
                                        {"lang", e.lang},
                                        {"country", e.country},
                                        {"results", e.results},
                                        {"raw_row", e.raw_row}});
        for (const auto& [key, counts] : b.volume_only)
            volume.push_back(json::object{{"day", std::get<0>(key)},
                                          {"lang", std::get<1>(key)},
                                          {"country", std::get<2>(key)},
                                          {"searches", counts.first},
                                          {"zero", counts.second}});
        for (const auto& [key, cell] : b.cells) {
            json::array keys;
            for (const std::uint64_t k : cell.keys)
                keys.push_back(k);
            cells.push_back(json::object{{"day", std::get<0>(key)},
                                         {"query", std::get<1>(key)},
                                         {"lang", std::get<2>(key)},
                                         {"country", std::get<3>(key)},
                                         {"searches", cell.searches},
                                         {"zero", cell.zero},
                                         {"distinct", cell.distinct},
                                         {"bounded", cell.bounded},
                                         {"keys", std::move(keys)}});
        }
        return {{"rows", std::move(rows)},
                {"volume_only", std::move(volume)},
                {"cells", std::move(cells)}};
    }

    /// Throws (std::exception) on a missing or mistyped field.
    static SearchLogBuffer::Batch batch(const json::object& o) {
        SearchLogBuffer::Batch b;
        for (const json::value& v : o.at("rows").as_array()) {
            const json::object& r = v.as_object();
            SearchEvent e;
            e.time = int_at(r, "time");
            e.query = string_at(r, "query");
            e.lang = string_at(r, "lang");
            e.country = string_at(r, "country");
            e.results = uint_at(r, "results");
            e.raw_row = r.at("raw_row").as_bool();
            b.rows_.push_back(std::move(e));
        }
        for (const json::value& v : o.at("volume_only").as_array()) {
            const json::object& r = v.as_object();
            auto key =
                std::make_tuple(int_at(r, "day"), string_at(r, "lang"), string_at(r, "country"));
            if (!b.volume_only
                     .emplace(std::move(key), std::pair(int_at(r, "searches"), int_at(r, "zero")))
                     .second)
                throw std::invalid_argument("a daily volume appears twice");
        }
        for (const json::value& v : o.at("cells").as_array()) {
            const json::object& r = v.as_object();
            SearchLogBuffer::Batch::Cell cell;
            cell.searches = int_at(r, "searches");
            cell.zero = int_at(r, "zero");
            cell.distinct = uint_at(r, "distinct");
            cell.bounded = int_at(r, "bounded");
            for (const json::value& k : r.at("keys").as_array())
                cell.keys.push_back(k.to_number<std::uint64_t>());
            auto key = std::make_tuple(int_at(r, "day"), string_at(r, "query"),
                                       string_at(r, "lang"), string_at(r, "country"));
            if (!b.cells.emplace(std::move(key), std::move(cell)).second)
                throw std::invalid_argument("a cell appears twice");
        }
        return b;
    }
};

std::string held_events_text(const HeldEvents& held) {
    std::string out =
        json::serialize(json::object{{"format", format_name}, {"version", format_version}});
    out += '\n';
    for (const auto& b : held.batches) {
        out += json::serialize(json::object{{"batch", HeldEventsCodec::batch(b)}});
        out += '\n';
    }
    for (const ViewCount& c : held.views) {
        out += json::serialize(json::object{
            {"view", {{"id", c.id}, {"region", c.region}, {"day", c.day}, {"count", c.count}}}});
        out += '\n';
    }
    return out;
}

Expected<HeldEvents> parse_held_events(std::string_view text) {
    HeldEvents held;
    std::size_t line_no = 0;
    bool header = false;
    while (!text.empty()) {
        const auto end = text.find('\n');
        if (end == std::string_view::npos)
            return fail(ErrorCode::invalid_input,
                        "line " + std::to_string(line_no + 1) + " is cut short (no newline)");
        const std::string_view line = text.substr(0, end);
        text.remove_prefix(end + 1);
        ++line_no;
        const std::string where = "line " + std::to_string(line_no) + ": ";
        boost::system::error_code ec;
        const json::value v = json::parse(line, ec);
        if (ec)
            return fail(ErrorCode::invalid_input, where + "not JSON (" + ec.message() + ")");
        try {
            const json::object& o = v.as_object();
            if (!header) {
                if (o.at("format").as_string() != format_name ||
                    int_at(o, "version") != format_version)
                    return fail(ErrorCode::invalid_input,
                                where + "not a held-analytics file of version " +
                                    std::to_string(format_version));
                header = true;
            } else if (const json::value* b = o.if_contains("batch")) {
                held.batches.push_back(HeldEventsCodec::batch(b->as_object()));
            } else if (const json::value* c = o.if_contains("view")) {
                const json::object& r = c->as_object();
                held.views.push_back(ViewCount{string_at(r, "id"), string_at(r, "region"),
                                               int_at(r, "day"), int_at(r, "count")});
            } else {
                return fail(ErrorCode::invalid_input, where + "neither a batch nor a view");
            }
        } catch (const std::exception& e) {
            return fail(ErrorCode::invalid_input, where + e.what());
        }
    }
    if (!header)
        return fail(ErrorCode::invalid_input, "empty (no header line)");
    return held;
}

} // namespace mixi::analytics
