# Build helpers: adding a library, a test, a benchmark or a fuzzer is one call.

# sluice_add_library(<name> SOURCES ... [DEPS ...])
# Creates static library sluice_<name>; public headers live in include/sluice/<name>/.
function(sluice_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(sluice_${name} STATIC ${ARG_SOURCES})
  target_include_directories(sluice_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                            PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(sluice_${name} PUBLIC ${ARG_DEPS})
  target_compile_options(sluice_${name} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()

# sluice_add_test(<name> SOURCES ... [DEPS ...] [LABEL unit|integration])
# One GoogleTest executable; each TEST becomes its own ctest entry with the label.
function(sluice_add_test name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE SLUICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             SLUICE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT})
endfunction()

# sluice_add_bench(<name> SOURCES ... [DEPS ...])  Google Benchmark executable (not run by ctest).
function(sluice_add_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
endfunction()

# sluice_add_fuzzer(<name> SOURCE file.cpp DEPS ... CORPUS dir [FUZZ_SOURCES ... FUZZ_DEPS ...])
# With SLUICE_FUZZ=ON (clang) it links libFuzzer; otherwise it links a replay main that runs
# every file of the corpus through the target, and ctest runs that replay so CI keeps the corpus green.
# FUZZ_SOURCES/FUZZ_DEPS: in the fuzz build, compile just the parsers under test and link these
# smaller libraries instead of DEPS, so the clang+ASan build does not compile a whole library
# (fifty gateway files, most of them coroutine-heavy and slow under ASan) for three parsers.
function(sluice_add_fuzzer name)
  cmake_parse_arguments(ARG "" "SOURCE;CORPUS" "DEPS;FUZZ_SOURCES;FUZZ_DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCE})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  if(SLUICE_FUZZ)
    if(ARG_FUZZ_SOURCES)
      target_sources(${name} PRIVATE ${ARG_FUZZ_SOURCES})
      target_link_libraries(${name} PRIVATE ${ARG_FUZZ_DEPS})
    else()
      target_link_libraries(${name} PRIVATE ${ARG_DEPS})
    endif()
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize=function)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    target_link_libraries(${name} PRIVATE ${ARG_DEPS})
    target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cpp)
    add_test(NAME ${name}_corpus COMMAND ${name} ${ARG_CORPUS})
    set_tests_properties(${name}_corpus PROPERTIES LABELS unit TIMEOUT 120)
  endif()
endfunction()

# sluice_share_http_pch()  Call once, after every target is defined.
# sluice_http's precompiled header (Asio and Beast) reaches every target that links it, and by
# default each of those targets compiles its own copy: ~230 MB apiece, 26 of them, 6 GB for one
# build folder. Every target here compiles with the same flags and defines (a test's
# SLUICE_SOURCE_DIR does not occur in the header), so they can all reuse sluice_http's one copy.
# Not in fuzz builds: their targets add sanitizer flags of their own, and clang rejects a
# precompiled header built with different ones.
function(sluice_share_http_pch)
  if(SLUICE_FUZZ OR NOT TARGET sluice_http)
    return()
  endif()
  sluice_collect_targets(${PROJECT_SOURCE_DIR} targets)
  foreach(target IN LISTS targets)
    if(NOT target STREQUAL "sluice_http")
      sluice_links_target(${target} sluice_http links)
      if(links)
        target_precompile_headers(${target} REUSE_FROM sluice_http)
        # A flag that differs silently falls back to parsing the headers in every file: say so.
        target_compile_options(${target} PRIVATE -Winvalid-pch)
      endif()
    endif()
  endforeach()
endfunction()

# Every build-system target defined in <dir> and the folders below it.
function(sluice_collect_targets dir out)
  get_property(found DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    sluice_collect_targets(${subdir} below)
    list(APPEND found ${below})
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

# Whether <target> links <wanted>, directly or through the sluice_ libraries it links (the
# project's libraries link their dependencies PUBLIC, so LINK_LIBRARIES holds every edge).
function(sluice_links_target target wanted out)
  get_target_property(libs ${target} LINK_LIBRARIES)
  foreach(lib IN LISTS libs)
    if(lib STREQUAL wanted)
      set(${out} TRUE PARENT_SCOPE)
      return()
    endif()
    if(TARGET ${lib} AND lib MATCHES "^sluice_")
      sluice_links_target(${lib} ${wanted} found)
      if(found)
        set(${out} TRUE PARENT_SCOPE)
        return()
      endif()
    endif()
  endforeach()
  set(${out} FALSE PARENT_SCOPE)
endfunction()
