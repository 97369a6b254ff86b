"""Public API: the `pull` repository rule (WORKSPACE; with Bzlmod use the `images` extension). Re-exports from //img/private."""

load("//img/private:pull.bzl", _pull = "pull")

pull = _pull
