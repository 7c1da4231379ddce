#include "query/metrics.h"

#include <algorithm>
#include <cmath>

namespace mixi::query {

namespace {
int relevance(const Judgments& judged, const std::string& id) {
    auto it = judged.find(id);
    return it == judged.end() ? 0 : it->second;
}
} // namespace

double ndcg_at(const std::vector<std::string>& ranked, const Judgments& judged, std::size_t k) {
    double dcg = 0;
    for (std::size_t i = 0; i < std::min(k, ranked.size()); ++i)
        dcg += relevance(judged, ranked[i]) / std::log2(static_cast<double>(i) + 2);
    std::vector<int> ideal;
    for (const auto& [id, rel] : judged)
        if (rel > 0)
            ideal.push_back(rel);
    std::sort(ideal.rbegin(), ideal.rend());
    double idcg = 0;
    for (std::size_t i = 0; i < std::min(k, ideal.size()); ++i)
        idcg += ideal[i] / std::log2(static_cast<double>(i) + 2);
    return idcg > 0 ? dcg / idcg : 0;
}

double recall_at(const std::vector<std::string>& ranked, const Judgments& judged, std::size_t k) {
    std::size_t relevant = 0, found = 0;
    for (const auto& [id, rel] : judged)
        relevant += rel > 0;
    for (std::size_t i = 0; i < std::min(k, ranked.size()); ++i)
        found += relevance(judged, ranked[i]) > 0;
    return relevant ? static_cast<double>(found) / static_cast<double>(relevant) : 0;
}

double mrr_at(const std::vector<std::string>& ranked, const Judgments& judged, std::size_t k) {
    for (std::size_t i = 0; i < std::min(k, ranked.size()); ++i)
        if (relevance(judged, ranked[i]) > 0)
            return 1.0 / static_cast<double>(i + 1);
    return 0;
}

} // namespace mixi::query
