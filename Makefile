# Builds and installs mcp-gen, its shell completions and its man page.
#
#   make install PREFIX=/usr/local          release build, linked statically (scripts/build-static.sh)
#   make install DESTDIR=/tmp/pkg           stage for a package (paths inside stay PREFIX)
#   make uninstall PREFIX=/usr/local        removes exactly the files install put there
#
# BUILD_CONFIG (release or debug), BUILD_DIR (SwiftPM's scratch path), STATIC (yes or no) and
# SWIFT_BUILD_FLAGS (passed to swift build) change how the binary is built; the defaults are what
# a real install should use.

PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
INSTALL ?= install
BUILD_CONFIG ?= release
BUILD_DIR ?= .build-release
STATIC ?= yes
SWIFT_BUILD_FLAGS ?=

BINDIR := $(PREFIX)/bin
BASH_COMPLETION := $(PREFIX)/share/bash-completion/completions/mcp-gen
ZSH_COMPLETION := $(PREFIX)/share/zsh/site-functions/_mcp-gen
FISH_COMPLETION := $(PREFIX)/share/fish/vendor_completions.d/mcp-gen.fish
MANPAGE := $(PREFIX)/share/man/man1/mcp-gen.1

BUILD_ARGS := $(strip --configuration $(BUILD_CONFIG) --scratch-path $(BUILD_DIR) --product mcp-gen $(SWIFT_BUILD_FLAGS))
GENERATED := $(BUILD_DIR)/install-files

.PHONY: all build install uninstall clean

all: build

# Linked as statically as the machine allows (scripts/build-static.sh: a static executable, else
# the Swift runtime linked in, else shared): the binary starts faster and runs where no Swift
# toolchain is installed.
build:
	@if [ "$(STATIC)" = yes ]; then \
	  echo "scripts/build-static.sh $(BUILD_ARGS)"; \
	  linked=$$(SWIFT="$(SWIFT)" scripts/build-static.sh $(BUILD_ARGS)) || exit 1; \
	  echo "mcp-gen linked as: $$linked"; \
	else \
	  echo "$(SWIFT) build $(BUILD_ARGS)"; \
	  $(SWIFT) build $(BUILD_ARGS); \
	fi

# Completions come from the binary just built, so they always match its subcommands.
install: build
	@set -e; \
	bin="$$($(SWIFT) build $(BUILD_ARGS) --show-bin-path)/mcp-gen"; \
	mkdir -p "$(GENERATED)"; \
	for shell in bash zsh fish; do \
	  "$$bin" --generate-completion-script $$shell > "$(GENERATED)/mcp-gen.$$shell"; \
	  test -s "$(GENERATED)/mcp-gen.$$shell"; \
	done; \
	set -x; \
	$(INSTALL) -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(dir $(BASH_COMPLETION))" "$(DESTDIR)$(dir $(ZSH_COMPLETION))" \
	  "$(DESTDIR)$(dir $(FISH_COMPLETION))" "$(DESTDIR)$(dir $(MANPAGE))"; \
	$(INSTALL) -m 0755 "$$bin" "$(DESTDIR)$(BINDIR)/mcp-gen"; \
	$(INSTALL) -m 0644 "$(GENERATED)/mcp-gen.bash" "$(DESTDIR)$(BASH_COMPLETION)"; \
	$(INSTALL) -m 0644 "$(GENERATED)/mcp-gen.zsh" "$(DESTDIR)$(ZSH_COMPLETION)"; \
	$(INSTALL) -m 0644 "$(GENERATED)/mcp-gen.fish" "$(DESTDIR)$(FISH_COMPLETION)"; \
	$(INSTALL) -m 0644 docs/mcp-gen.1 "$(DESTDIR)$(MANPAGE)"

# Only the files install wrote: the directories may hold other programs' files.
uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/mcp-gen" "$(DESTDIR)$(BASH_COMPLETION)" "$(DESTDIR)$(ZSH_COMPLETION)" \
	  "$(DESTDIR)$(FISH_COMPLETION)" "$(DESTDIR)$(MANPAGE)"

clean:
	rm -rf "$(BUILD_DIR)"
