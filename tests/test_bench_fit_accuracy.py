"""The fit-accuracy bench's llama.cpp part: reading llama.cpp's log, and the run without llama-cpp-python."""

from bench.bench_fit_accuracy import LLAMA_CPP_REQUIREMENT, logged_buffers, main

MIB = 1024**2
# Lines of llama-cpp-python 0.3.36's log for the bundled SmolLM2 Q4_1 at n_ctx 2048 (the bench's own run).
LOG = """\
load_tensors:   CPU_Mapped model buffer size =    92.10 MiB
llama_context:        CPU  output buffer size =     0.19 MiB
llama_kv_cache:        CPU KV buffer size =    45.00 MiB
sched_reserve: worst-case: n_tokens = 512, n_seqs = 1, n_outputs = 1
sched_reserve:        CPU compute buffer size =   102.51 MiB
~llama_context:        CPU compute buffer size is 102.5137 MiB, matches expectation of 102.5137 MiB
"""


def test_logged_buffers_reads_each_kind_once():
    assert logged_buffers(LOG) == {"model": round(92.10 * MIB), "output": round(0.19 * MIB),
                                   "KV": round(45.00 * MIB), "compute": round(102.51 * MIB)}


def test_without_llama_cpp_python_the_bench_says_how_to_install_it(capsys):
    assert main(["--only", "llama.cpp", "--llama-python", "/nonexistent/python"]) == 0
    out = capsys.readouterr().out
    assert "llama.cpp: not run: llama-cpp-python not installed in /nonexistent/python" in out
    assert f"pip install {LLAMA_CPP_REQUIREMENT}" in out
    assert "Llama-3-8B        258.50        258.50  1.000" in out  # the published sizes are still compared
