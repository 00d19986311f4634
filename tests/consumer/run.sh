#!/bin/sh
# make consumer-test: tests/consumer/main.c (a program that uses xlstm.h) built
# and run three ways, each against the header of this tree:
#   1. `make install DESTDIR=build/consumer/stage PREFIX=/usr`, then pkg-config
#      (PKG_CONFIG_SYSROOT_DIR and PKG_CONFIG_PATH into the stage)
#   2. CMake's install into build/consumer/cmake-stage, then find_package(xlstm)
#      with CMAKE_PREFIX_PATH there
#   3. CMake add_subdirectory of the source tree
# Each program must print the header's version.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$PWD
B=$ROOT/build/consumer
CC=${CC:-cc}
rm -rf "$B"
mkdir -p "$B"
v=
for p in MAJOR MINOR PATCH; do
    v=$v${v:+.}$(sed -n "s/^#define XLSTM_VERSION_$p \([0-9][0-9]*\).*/\1/p" xlstm.h)
done
want="xlstm $v"
check() { # NAME BINARY
    got=$("$2")
    [ "$got" = "$want" ] || { echo "consumer-test, $1: printed '$got', wanted '$want'"; exit 1; }
    echo "consumer-test, $1: $got"
}
cmake_q() { cmake "$@" > "$B/cmake.log" 2>&1 || { cat "$B/cmake.log"; exit 1; }; }

# 1. make install + pkg-config
make -s install DESTDIR="$B/stage" PREFIX=/usr > /dev/null
export PKG_CONFIG_SYSROOT_DIR="$B/stage" PKG_CONFIG_PATH="$B/stage/usr/lib/pkgconfig"
[ "$(pkg-config --modversion xlstm)" = "$v" ] || { echo "consumer-test: pkg-config says version $(pkg-config --modversion xlstm)"; exit 1; }
# shellcheck disable=SC2046
$CC -std=c99 -Wall -Wextra -Wpedantic -Werror $(pkg-config --cflags xlstm) -o "$B/pkgconfig" tests/consumer/main.c $(pkg-config --libs xlstm)
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
check "pkg-config ($(cd "$B/stage" && find . -type f | sort | tr '\n' ' '))" "$B/pkgconfig"

# 2. CMake install + find_package
cmake_q -S . -B "$B/lib" -DXLSTM_BUILD_EXAMPLES=OFF -DXLSTM_BUILD_TOOLS=OFF
cmake_q --install "$B/lib" --prefix "$B/cmake-stage"
grep -q "^prefix=$B/cmake-stage\$" "$B/cmake-stage/lib/pkgconfig/xlstm.pc" || { echo "consumer-test: CMake's xlstm.pc:"; cat "$B/cmake-stage/lib/pkgconfig/xlstm.pc"; exit 1; }
cmake_q -S tests/consumer -B "$B/find" -DCMAKE_PREFIX_PATH="$B/cmake-stage" -DXLSTM_WANT_VERSION="$v"
cmake_q --build "$B/find"
check "CMake find_package" "$B/find/consumer"

# 3. CMake add_subdirectory
cmake_q -S tests/consumer -B "$B/subdir" -DXLSTM_SOURCE_DIR="$ROOT"
cmake_q --build "$B/subdir"
check "CMake add_subdirectory" "$B/subdir/consumer"
