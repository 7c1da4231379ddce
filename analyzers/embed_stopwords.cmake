# Writes OUT: a C++ source defining mixi::analyzers::embedded_stopwords() from DIR/*.txt.
file(GLOB files ${DIR}/*.txt)
list(SORT files)
set(body "")
foreach(f ${files})
    get_filename_component(lang ${f} NAME_WE)
    file(READ ${f} text)
    string(APPEND body "        {\"${lang}\", R\"MIXISTOP(${text})MIXISTOP\"},\n")
endforeach()
file(WRITE ${OUT} "// Generated from analyzers/stopwords/*.txt by embed_stopwords.cmake.
#include <map>
#include <string>

namespace mixi::analyzers {
const std::map<std::string, std::string>& embedded_stopwords() {
    static const std::map<std::string, std::string> lists = {
${body}    };
    return lists;
}
} // namespace mixi::analyzers
")
