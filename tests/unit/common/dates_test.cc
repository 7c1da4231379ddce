// Unit tests of date parsing and formatting (common/dates.h).
#include "common/dates.h"

#include <gtest/gtest.h>

namespace {

using mixi::format_date;
using mixi::parse_date;
using mixi::parse_date_end;

TEST(ParseDate, Precisions) {
    EXPECT_EQ(parse_date("2024"), 1704067200);
    EXPECT_EQ(parse_date("2024-05"), 1714521600);
    EXPECT_EQ(parse_date("2024-05-17"), 1715904000);
    EXPECT_EQ(parse_date("2024-05-17T09:30:00Z"), 1715938200);
    EXPECT_EQ(parse_date("2024-05-17T09:30:00"), 1715938200);      // no zone: UTC
    EXPECT_EQ(parse_date("2024-05-17T09:30"), 1715938200);         // no seconds
    EXPECT_EQ(parse_date("2024-05-17 09:30:00Z"), 1715938200);     // space separator
    EXPECT_EQ(parse_date("2024-05-17T09:30:00.250Z"), 1715938200); // fraction ignored
}

TEST(ParseDate, Offsets) {
    EXPECT_EQ(parse_date("2024-05-17T09:30:00+09:00"), 1715905800); // 00:30Z
    EXPECT_EQ(parse_date("2024-05-17T00:30:00-09:00"), 1715938200); // 09:30Z
    EXPECT_EQ(parse_date("2024-05-17T09:30:00+00:00"), 1715938200);
}

TEST(ParseDate, Calendar) {
    EXPECT_EQ(parse_date("2024-02-29"), 1709164800); // leap year
    EXPECT_EQ(parse_date("1970-01-01"), 0);
    EXPECT_EQ(parse_date("1969-12-31T23:59:59Z"), -1);
    EXPECT_EQ(parse_date("2000-02-29T12:00:00Z"), 951825600);
}

TEST(ParseDate, Rejects) {
    for (const char* bad : {"",
                            "24",
                            "202",
                            "2024-",
                            "2024-5",
                            "2024-13",
                            "2024-00",
                            "2024-05-",
                            "2024-05-1",
                            "2024-02-30",
                            "2023-02-29",
                            "2024-05-32",
                            "2024-05-00",
                            "20240517",
                            "2024/05/17",
                            "2024-05-17X",
                            "2024-05-17T",
                            "2024-05-17T9:30",
                            "2024-05-17T24:00",
                            "2024-05-17T09:60",
                            "2024-05-17T09:30:0",
                            "2024-05-17T09:30:00+0900",
                            "2024-05-17T09:30:00Zjunk",
                            "2024-05-17T09:30:00+09",
                            "next tuesday",
                            "abcd",
                            " 2024"}) {
        EXPECT_FALSE(parse_date(bad).has_value()) << '"' << bad << '"';
        EXPECT_FALSE(parse_date_end(bad).has_value()) << '"' << bad << '"';
    }
}

TEST(ParseDateEnd, EndOfPeriod) {
    EXPECT_EQ(parse_date_end("2024"), 1735689600);       // 2025-01-01
    EXPECT_EQ(parse_date_end("2024-05"), 1717200000);    // 2024-06-01
    EXPECT_EQ(parse_date_end("2024-12"), 1735689600);    // into the next year
    EXPECT_EQ(parse_date_end("2024-05-17"), 1715990400); // 2024-05-18
    EXPECT_EQ(parse_date_end("2024-02-29"), 1709251200); // 2024-03-01
    EXPECT_EQ(parse_date_end("2024-05-17T09:30:00Z"), 1715938201);
    EXPECT_EQ(parse_date_end("2024-05-17T09:30:00+09:00"), 1715905801);
}

TEST(ParseDateEnd, AfterStart) {
    for (const char* d : {"2023", "2023-11", "2023-11-28", "2023-08-04T09:15:00Z"}) {
        const auto start = parse_date(d), end = parse_date_end(d);
        ASSERT_TRUE(start.has_value()) << d;
        ASSERT_TRUE(end.has_value()) << d;
        EXPECT_GT(*end, *start) << d;
    }
}

TEST(FormatDate, Iso) {
    EXPECT_EQ(format_date(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_date(1715938200), "2024-05-17T09:30:00Z");
    EXPECT_EQ(format_date(1709164800), "2024-02-29T00:00:00Z");
    EXPECT_EQ(format_date(-1), "1969-12-31T23:59:59Z");
    EXPECT_EQ(format_date(1735689599), "2024-12-31T23:59:59Z");
}

TEST(FormatDate, RoundTrip) {
    for (const char* d : {"2023-08-04T09:15:00Z", "2024-12-20T03:00:00Z", "2026-02-04T10:10:00Z",
                          "2000-01-01T00:00:00Z"}) {
        const auto t = parse_date(d);
        ASSERT_TRUE(t.has_value()) << d;
        EXPECT_EQ(format_date(*t), d);
    }
}

} // namespace
