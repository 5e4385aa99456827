#!/bin/bash -eu
# Builds Parley's libFuzzer targets the OSS-Fuzz way. ClusterFuzzLite and OSS-Fuzz run it as $SRC/build.sh
# inside the image of .clusterfuzzlite/Dockerfile, from the Parley checkout (the Dockerfile's WORKDIR);
# ci/cflite-check runs it the same way without Docker. fuzz/README.md ("Continuous fuzzing") has the rest.
#
# What it reads, as OSS-Fuzz's `compile` sets it:
#   $CXX, $CXXFLAGS      the compiler and all of its flags: the sanitizer, the coverage instrumentation
#                        (-fsanitize=fuzzer-no-link, or the profile flags of a coverage build), -O1, -stdlib=libc++
#   $LIB_FUZZING_ENGINE  what links the engine and its main (-fsanitize=fuzzer)
#   $OUT, $WORK          where the targets go; where the build tree goes
#   $CC, $CFLAGS         nothing here: Parley has no C sources, and OpenSSL, its one C dependency, is
#                        built by the Dockerfile (uninstrumented, as ASan and UBSan allow)
#   PARLEY_OPENSSL_ROOT  optional: an OpenSSL 3 install prefix (the Dockerfile's /opt/openssl); without it,
#                        the system's OpenSSL 3
# What it writes to $OUT, for every fuzz/<name>_fuzzer.cpp:
#   <name>_fuzzer                    the target, OpenSSL linked statically so a runner needs no libraries
#   <name>_fuzzer_seed_corpus.zip    fuzz/corpus/<name>/
#   <name>_fuzzer.dict               fuzz/dict/<protocol>.dict, the protocol being the name up to its first _
#   <name>_fuzzer.options            fuzz/<name>.options, for the targets that have one
# The targets carry the test keys they sign with (fuzz/test_keys.hpp): nothing else from the source tree
# is needed where they run.

src=$PWD
if [ ! -f "$src/fuzz/CMakeLists.txt" ]; then
  echo "build.sh: run it from the Parley checkout (found no fuzz/CMakeLists.txt in $src)" >&2
  exit 1
fi
build=$WORK/parley-build

# Exactly OSS-Fuzz's flags: no build type (which would add its own -O and -g), Parley's own sanitizer
# option off, and the engine from $LIB_FUZZING_ENGINE. PARLEY_FUZZ still instruments every library for
# coverage with Parley's ignore list (cmake/ParleyOptions.cmake), which $CXXFLAGS repeats in fuzzing builds.
cmake_args=(
  -S "$src" -B "$build" -G Ninja
  -DCMAKE_BUILD_TYPE=
  -DCMAKE_CXX_COMPILER="$CXX"
  -DCMAKE_CXX_FLAGS="$CXXFLAGS"
  -DPARLEY_FUZZ=ON -DPARLEY_SANITIZE=OFF -DPARLEY_TESTS=OFF -DPARLEY_PROGRAMS=OFF
  -DPARLEY_FUZZ_ENGINE="$LIB_FUZZING_ENGINE"
  -DOPENSSL_USE_STATIC_LIBS=ON
)
if [ -n "${PARLEY_OPENSSL_ROOT:-}" ]; then
  cmake_args+=(-DOPENSSL_ROOT_DIR="$PARLEY_OPENSSL_ROOT")
fi
cmake "${cmake_args[@]}"
cmake --build "$build" --target fuzzers --parallel "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"

for source in "$src"/fuzz/*_fuzzer.cpp; do
  name=$(basename "$source" _fuzzer.cpp)   # itp_line
  protocol=${name%%_*}                      # itp
  cp "$build/fuzz/${name}_fuzzer" "$OUT/"
  cp "$src/fuzz/dict/$protocol.dict" "$OUT/${name}_fuzzer.dict"
  if [ -f "$src/fuzz/$name.options" ]; then
    cp "$src/fuzz/$name.options" "$OUT/${name}_fuzzer.options"
  fi
  # zip adds to an archive that exists: start from none, so a seed deleted from the corpus leaves it too.
  rm -f "$OUT/${name}_fuzzer_seed_corpus.zip"
  zip -q -j -X "$OUT/${name}_fuzzer_seed_corpus.zip" "$src/fuzz/corpus/$name"/*
done
