# Compiler flags shared by every target, and the small helpers the folders use.

find_program(PARLEY_CCACHE ccache)
if(PARLEY_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${PARLEY_CCACHE})
endif()

add_library(parley_flags INTERFACE)
target_compile_options(parley_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                       -Wno-sign-conversion -Wno-missing-field-initializers)
if(PARLEY_WERROR)
  target_compile_options(parley_flags INTERFACE -Werror)
endif()
target_include_directories(parley_flags INTERFACE ${PROJECT_SOURCE_DIR})

if(PARLEY_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# libFuzzer steers by the coverage of the code it runs: every Parley library is instrumented for it (the
# fuzz targets themselves add -fsanitize=fuzzer, which also links libFuzzer's main). Without this only a
# harness's own translation unit was instrumented and the fuzzers ran blind inside the codecs and hubs.
if(PARLEY_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link
                      -fsanitize-coverage-ignorelist=${PROJECT_SOURCE_DIR}/fuzz/coverage-ignorelist.txt)
endif()

# parley_library(NAME SOURCES... DEPS ...): one static library per folder, named parley::NAME.
function(parley_library name)
  cmake_parse_arguments(arg "" "" "SOURCES;DEPS" ${ARGN})
  add_library(parley_${name} STATIC ${arg_SOURCES})
  add_library(parley::${name} ALIAS parley_${name})
  target_link_libraries(parley_${name} PUBLIC parley_flags ${arg_DEPS})
endfunction()

# parley_test(NAME SOURCES... DEPS ...): one GoogleTest binary registered with CTest.
function(parley_test name)
  if(NOT PARLEY_TESTS)
    return()
  endif()
  cmake_parse_arguments(arg "" "" "SOURCES;DEPS" ${ARGN})
  find_package(GTest REQUIRED)
  add_executable(${name} ${arg_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${arg_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
endfunction()
