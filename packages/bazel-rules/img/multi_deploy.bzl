"""Public API: multi_deploy. Re-exports from //img/private."""

load("//img/private:deploy.bzl", _multi_deploy = "multi_deploy")

multi_deploy = _multi_deploy
