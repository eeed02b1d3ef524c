# Builds and installs mcp-gen, its shell completions and its man page.
#
#   make install PREFIX=/usr/local          release build, Swift runtime linked in statically
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

# A statically linked Swift runtime makes the binary start faster and run where no Swift
# toolchain is installed; where the toolchain cannot link it so, the shared runtime still works.
build:
	@if [ "$(STATIC)" = yes ]; then \
	  echo "$(SWIFT) build $(BUILD_ARGS) --static-swift-stdlib"; \
	  $(SWIFT) build $(BUILD_ARGS) --static-swift-stdlib || { \
	    echo "make: building with --static-swift-stdlib failed; building with the shared Swift runtime instead (the installed binary then needs the Swift runtime libraries where it runs)" >&2; \
	    echo "$(SWIFT) build $(BUILD_ARGS)"; \
	    $(SWIFT) build $(BUILD_ARGS); \
	  }; \
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
