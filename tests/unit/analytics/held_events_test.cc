// The text a stopped server saves its held analytics in, read back field for field.
#include "analytics/held_events.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace mixi::analytics {
namespace {

namespace json = boost::json;

/// Two batches and two view counts where no field has its default value.
HeldEvents sample() {
    SearchLogBuffer buffer([](std::string_view q) { return std::string(q); });
    RawSearch signed_in;
    signed_in.time = 1'700'000'123;
    signed_in.query = "alpine huts";
    signed_in.lang = "en";
    signed_in.country = "CH";
    signed_in.account = "acct-7";
    signed_in.results = 12;
    signed_in.searcher = 0xfedc'ba98'7654'3210ULL; // above INT64_MAX
    buffer.record_search(signed_in);
    RawSearch none = signed_in;
    none.account.clear();
    none.query = "matterhorn";
    none.results = 0;
    none.searcher = 42;
    buffer.record_search(none);
    RawSearch gpc = signed_in;
    gpc.do_not_track = true;
    gpc.country = "JP";
    gpc.results = 0;
    buffer.record_search(gpc);
    RawSearch unkeyed = none;
    unkeyed.searcher.reset();
    buffer.record_search(unkeyed);

    HeldEvents held;
    held.batches.push_back(buffer.take());
    SearchLogBuffer::Batch synthetic;
    synthetic.cells[{19'700, "dolomites", "de", "IT"}] = {5, 2, 4, 3, {1, 2, ~0ULL}};
    synthetic.volume_only[{19'701, "ja", "JP"}] = {9, 7};
    held.batches.push_back(std::move(synthetic));
    held.views = {{"a-002", "EU", 19'700, 3}, {"b-017", "", 19'701, 11}};
    return held;
}

void expect_same(const HeldEvents& a, const HeldEvents& b) {
    ASSERT_EQ(a.batches.size(), b.batches.size());
    for (std::size_t i = 0; i < a.batches.size(); ++i) {
        const auto &x = a.batches[i], &y = b.batches[i];
        ASSERT_EQ(x.rows().size(), y.rows().size());
        for (std::size_t r = 0; r < x.rows().size(); ++r) {
            const SearchEvent &e = x.rows()[r], &f = y.rows()[r];
            EXPECT_EQ(e.time - e.time % 3600, f.time) << "the hour, as the store keeps it";
            EXPECT_EQ(e.query, f.query);
            EXPECT_EQ(e.lang, f.lang);
            EXPECT_EQ(e.country, f.country);
            EXPECT_EQ(e.results, f.results);
            EXPECT_EQ(f.account, "") << "the file keeps no account link";
            EXPECT_EQ(e.raw_row, f.raw_row);
            EXPECT_FALSE(f.searcher) << "a row's key is not kept: the cells count the keys";
        }
        EXPECT_EQ(x.volume_only, y.volume_only);
        ASSERT_EQ(x.cells.size(), y.cells.size());
        for (auto c = x.cells.begin(), d = y.cells.begin(); c != x.cells.end(); ++c, ++d) {
            EXPECT_EQ(c->first, d->first);
            EXPECT_EQ(c->second.searches, d->second.searches);
            EXPECT_EQ(c->second.zero, d->second.zero);
            EXPECT_EQ(c->second.distinct, d->second.distinct);
            EXPECT_EQ(c->second.bounded, d->second.bounded);
            EXPECT_EQ(c->second.keys, d->second.keys);
        }
    }
    ASSERT_EQ(a.views.size(), b.views.size());
    for (std::size_t i = 0; i < a.views.size(); ++i) {
        EXPECT_EQ(a.views[i].id, b.views[i].id);
        EXPECT_EQ(a.views[i].region, b.views[i].region);
        EXPECT_EQ(a.views[i].day, b.views[i].day);
        EXPECT_EQ(a.views[i].count, b.views[i].count);
    }
}

TEST(HeldEvents, EveryFieldOfBatchesAndViewCountsComesBack) {
    const HeldEvents held = sample();
    // The sample has what the buffer makes of each kind of search: a signed-in one, a
    // zero-result one, one under Sec-GPC (volume only, no row) and one without a searcher key.
    ASSERT_EQ(held.batches[0].rows().size(), 3u);
    ASSERT_EQ(held.batches[0].volume_only.size(), 1u);
    ASSERT_EQ(held.batches[0].cells.size(), 2u);
    const std::string text = held_events_text(held);
    auto back = parse_held_events(text);
    ASSERT_TRUE(back) << back.error().message;
    expect_same(held, *back);
    EXPECT_EQ(held_events_text(*back), text);
    EXPECT_EQ(held.batches[0].rows()[0].account, "acct-7");
    EXPECT_EQ(text.find("acct-7"), std::string::npos) << text;
}

TEST(HeldEvents, EveryFieldIsRequired) {
    // Each field of each kind of line, removed, makes the file unreadable: none is read as a
    // default, so a field the writer drops is caught.
    const std::string text = held_events_text(sample());
    std::vector<std::string> lines;
    for (std::size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
        lines.push_back(text.substr(at, end - at));
    ASSERT_EQ(lines.size(), 5u); // header, two batches, two views
    int checked = 0;
    auto without = [&](std::size_t line, auto&& remove) {
        json::value v = json::parse(lines[line]);
        remove(v);
        std::string changed;
        for (std::size_t i = 0; i < lines.size(); ++i)
            changed += (i == line ? json::serialize(v) : lines[i]) + "\n";
        ++checked;
        return parse_held_events(changed);
    };
    for (const char* key : {"format", "version"})
        EXPECT_FALSE(without(0, [&](json::value& v) { v.as_object().erase(key); })) << key;
    for (const char* part : {"rows", "volume_only", "cells"}) {
        EXPECT_FALSE(without(1, [&](json::value& v) { v.at("batch").as_object().erase(part); }))
            << part;
        const json::value batch = json::parse(lines[1]);
        for (const auto& field : batch.at("batch").at(part).at(0).as_object())
            EXPECT_FALSE(without(1,
                                 [&](json::value& v) {
                                     v.at("batch").at(part).at(0).as_object().erase(field.key());
                                 }))
                << part << "." << field.key();
    }
    for (const char* key : {"id", "region", "day", "count"})
        EXPECT_FALSE(without(3, [&](json::value& v) { v.at("view").as_object().erase(key); }))
            << key;
    EXPECT_EQ(checked, 2 + 3 + 6 + 5 + 9 + 4);
}

TEST(HeldEvents, AnythingElseIsAClearError) {
    const std::string text = held_events_text(sample());
    for (const std::string& bad :
         {std::string(), std::string("\n"), text.substr(0, text.size() - 1),
          text.substr(0, text.size() / 2), text + "{\"other\":1}\n", text + "not json\n",
          std::string("{\"format\":\"mixi-search held analytics\",\"version\":2}\n"),
          std::string("[1,2]\n"), std::string(4, '\0')}) {
        auto parsed = parse_held_events(bad);
        ASSERT_FALSE(parsed) << bad;
        EXPECT_EQ(parsed.error().code, ErrorCode::invalid_input);
        EXPECT_FALSE(parsed.error().message.empty());
    }
    // A negative count where an unsigned one belongs, a key that is not a number.
    std::string negative = text;
    negative.replace(negative.find("\"distinct\":"), 11, "\"distinct\":-");
    EXPECT_FALSE(parse_held_events(negative));
    std::string word = text;
    word.replace(word.find("\"keys\":[") + 8, 0, "\"x\",");
    EXPECT_FALSE(parse_held_events(word));
}

} // namespace
} // namespace mixi::analytics
