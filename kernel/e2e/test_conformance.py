"""The official jupyter_kernel_test suite, all tests enabled, against goinv."""
import unittest

import jupyter_kernel_test as jkt


class GoinvKernelTests(jkt.KernelTests):
    kernel_name = "goinv"
    language_name = "go"
    file_extension = ".go"

    code_hello_world = 'fmt.Println("hello, world")'
    code_stderr = 'fmt.Fprintln(os.Stderr, "oops")'
    completion_samples = [{"text": "fmt.Prin", "matches": {"Print", "Printf", "Println"}}]
    complete_code_samples = ["x := 1", "fmt.Println(1)", "func f() int { return 1 }"]
    incomplete_code_samples = ["func f() {", "for i := 0; i < 3; i++ {", "x := []int{1,"]
    invalid_code_samples = ["x := )", "func ) {"]
    code_page_something = "?fmt.Println"
    code_generate_error = 'panic("boom")'
    code_execute_result = [{"code": "1 + 1", "result": "2"}, {"code": '"a" + "b"', "result": '"ab"'}]
    code_display_data = [
        {"code": 'display.HTML("<b>hi</b>")', "mime": "text/html"},
        {"code": 'display.Markdown("# hi")', "mime": "text/markdown"},
    ]
    code_history_pattern = "1 + 1"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "fmt.Println"
    code_clear_output = "display.Clear()"


if __name__ == "__main__":
    unittest.main()
