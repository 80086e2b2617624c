"""Every flag and status a row can carry, and what it means for the instructor · 标记与状态一览.

A row of the grades (``grades.csv``, ``report.json``, the terminal) has one **status** (why
it scored what it did, when that is not simply the tests) and any number of **flags**
(what the instructor may want to know). This module is the one table of both: the
README's table and ``python -m grader grade --help`` are made from it, and
``tests/test_flags.py`` fails when the code can emit a flag or a status it does not
describe. A flag is ``name`` or ``name:detail`` (``renamed:hw1.ipynb``); the table is
keyed by the name. ``attention`` marks what the summary lists under "needs your eyes".
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.checks import messages as M

__all__ = ["Flag", "FLAGS", "STATUSES", "flag_name", "describe_flag", "needs_attention",
           "markdown_table", "help_text", "SANDBOX_REASONS"]

#: How the sandbox can stop (grader.record.sandbox.SandboxError.reason): each is a status
#: of a notebook stopped while loading, and a flag ``<reason>:<test cell or loading>``.
SANDBOX_REASONS = ("timeout", "time_budget", "memory", "processes", "crashed", "protocol")


@dataclass(frozen=True)
class Flag:
    name: str  # what comes before the ":" (the whole flag when it has no detail)
    form: str  # how it is written, e.g. renamed:<file>
    attention: bool  # listed under "needs your eyes" in the summary
    group: str  # collect | read | tests | limits | sandbox | grader


def _flags(rows: list[tuple[str, bool, str, str, str]]) -> dict[str, Flag]:
    table = {}
    for form, attention, group, english, chinese in rows:
        name = form.split(":", 1)[0].split("[", 1)[0]
        table[name] = Flag(name, form, attention, group)
        M.register({f"flag_{name}": (english, chinese)})
    return table


FLAGS: dict[str, Flag] = _flags([
    # -- collecting: where the files came from ------------------------------------------
    ("renamed:<file>", False, "collect",
     "The notebook had another name (`Copy of perceptron.ipynb`, `hw1.ipynb`); it was "
     "recognised by its cells and graded. Nothing to do.",
     "notebook 被改了名（如 `Copy of perceptron.ipynb`、`hw1.ipynb`）；已根据其单元格识别并评分。无需处理。"),
    ("late", False, "collect",
     "The LMS marked the upload late (Canvas `_LATE`). The score is not changed: apply "
     "your late policy.",
     "LMS 把这次上传标记为迟交（Canvas 的 `_LATE`）。分数没有改变：请按你的迟交规定处理。"),
    ("duplicate:<file>", True, "collect",
     "Two files for one notebook; the other one, named here, was not graded (the newest "
     "re-upload wins, then the released name, then the file nearest the top). Check that "
     "the graded one is the one the student meant.",
     "同一个 notebook 有两个文件；这里列出的另一个没有评分（最新的重新上传优先，其次是发布时的文件名，"
     "再次是最靠近顶层的文件）。请确认评分的是学生想交的那一个。"),
    ("claims_other_student:<id>", True, "collect",
     "A file or folder in this student's part of the submissions names another student "
     "of the class. It counted for this student only; look for copying or a mix-up.",
     "该学生的提交中有文件或文件夹的名称指向班上的另一位学生。它只计入该学生本人；"
     "请检查是否抄袭或弄混。"),
    ("not_collected:<file>", True, "collect",
     "A file of this student's was refused (too large, a link, an unreadable or oversized "
     "zip, …); `collect.json` says why. Their grade may be missing work.",
     "该学生的某个文件被拒绝读取（过大、链接、无法读取或过大的 zip 等）；原因见 `collect.json`。"
     "其成绩可能缺少部分作业。"),
    ("undecodable_name:<path>", False, "collect",
     "A file or folder name is not UTF-8; it is shown with �. The file was graded.",
     "文件或文件夹的名称不是 UTF-8，用 � 显示。文件已评分。"),
    ("same_id:<folder>", True, "collect",
     "Two folders give one student id; they are kept apart with a suffix. Check whether "
     "they are one person or two.",
     "两个文件夹对应同一个学生 id，已加后缀分开记录。请确认他们是一个人还是两个人。"),
    # -- reading the notebook ------------------------------------------------------------
    ("nbformat3", False, "read",
     "Saved in the old notebook format 3; converted and graded.",
     "以旧的 notebook 格式 3 保存；已转换并评分。"),
    ("encoding:<kind>", False, "read",
     "The file was not UTF-8 (`gb18030`: saved as GBK by a Windows editor; "
     "`invalid_bytes`: a few stray bytes, replaced); read and graded.",
     "文件不是 UTF-8（`gb18030`：被 Windows 编辑器存成了 GBK；`invalid_bytes`：少量无效字节，已替换）；"
     "已读取并评分。"),
    ("duplicate_cell_ids", False, "read",
     "Copied cells shared an id; repaired and graded.",
     "复制的单元格使用了相同的 id；已修复并评分。"),
    ("duplicate_grade_id:<id>", True, "read",
     "Two cells carry the same grade id (a graded cell was copied); the first one is graded.",
     "两个单元格带有相同的评分 id（复制了评分单元格）；只评第一个。"),
    ("odd_grade_id:<id>", True, "read",
     "A cell's grade id is not a plain name (letters, digits, _ and -): nbgrader's tools "
     "never make one, so the metadata was edited by hand, perhaps to put markup into "
     "formgrader's page. Shown here with other characters as ?; the copy formgrader shows "
     "carries the instructor's metadata, never this one.",
     "某个单元格的评分 id 不是普通名称（字母、数字、_ 和 -）：nbgrader 的工具从不生成这样的 id，"
     "所以元数据被手工改过，可能是想把标记插进 formgrader 的页面。这里把其他字符显示为 ?；"
     "formgrader 展示的副本只带教师的元数据，不带这一个。"),
    ("huge_outputs:<size>", False, "read",
     "The notebook held more than 5 MB of outputs; they were stripped (outputs are never "
     "graded, and they do not reach the feedback).",
     "notebook 中的输出超过 5 MB；已删除（输出从不计分，也不会出现在反馈中）。"),
    ("repaired_structure", False, "read",
     "The notebook's JSON had a damaged structure (another tool or a hand edit); repaired "
     "and graded.",
     "notebook 的 JSON 结构有损坏（其他工具或手工编辑造成）；已修复并评分。"),
    ("no_grade_cells", True, "read",
     "None of nbgrader's cell metadata survived (another tool removed it); the cells were "
     "graded by their code alone. Check the score.",
     "nbgrader 的单元格元数据全部丢失（被其他工具删除）；只根据代码评分。请核对分数。"),
    # -- the test cells ----------------------------------------------------------------
    ("test_cell_edited:<test cell>", True, "tests",
     "The student changed a test cell. The instructor's version was graded; the student's "
     "never runs.",
     "学生改动了测试单元格。评分使用教师的版本；学生的版本从不运行。"),
    ("test_cell_deleted:<test cell>", True, "tests",
     "The student deleted a test cell. The instructor's version was put back and graded.",
     "学生删除了测试单元格。已放回教师的版本并评分。"),
    ("points_changed:<cell>", True, "tests",
     "The student changed the points of a test cell or of a written answer's cell; the "
     "instructor's points count.",
     "学生改动了测试单元格或文字作答单元格的分值；以教师设定的分值为准。"),
    ("unknown_test_cell:<test cell>", True, "tests",
     "A test cell the assignment does not have (forged, or from an older release); ignored.",
     "作业中没有的测试单元格（伪造的，或来自旧版本）；已忽略。"),
    ("answer_cell_deleted:<answer cell>", True, "tests",
     "The cell for a written answer is not in the notebook (deleted, or its id changed): "
     "formgrader has no answer to grade there. Look for the answer elsewhere in the notebook.",
     "notebook 中没有某道文字作答题的单元格（被删除，或其 id 被改动）：formgrader 在那里没有可评的答案。"
     "请在 notebook 的其他位置查找学生的回答。"),
    ("unknown_answer_cell:<answer cell>", True, "tests",
     "A cell for a written answer that the assignment does not have (its id changed, "
     "forged, or from an older release); not graded.",
     "作业中没有的文字作答单元格（id 被改动、伪造的，或来自旧版本）；不评分。"),
    ("answer_changed:<answer cell>", True, "tests",
     "A written answer you had already graded by hand is not the text you graded (the "
     "student handed in again, or the gradebook has no record of the text graded): your "
     "grade is kept, and formgrader lists the answer for review until you have looked.",
     "你已人工评分的文字作答与评分时的文本不同（学生重新提交了，或成绩册中没有评分时文本的记录）："
     "你的分数保留，formgrader 把这份回答列为需要复核，直到你看过为止。"),
    ("autograde_changed:<test cell>", True, "tests",
     "You overrode this test cell's score by hand, and the student's new submission scores "
     "otherwise there: your score is kept, and formgrader lists the cell for review again.",
     "你曾人工改判这个测试单元格的分数，而学生新提交的版本在这里得分不同：你的分数保留，formgrader "
     "把这个单元格重新列为需要复核。"),
    ("visible_only:<test cell>", False, "tests",
     "The visible check passed but a hidden one failed: an edge case missed, or answers "
     "that fit only the visible inputs.",
     "可见的检查通过了，但隐藏测试没有通过：漏掉了边界情况，或者答案只适用于可见的输入。"),
    ("numerical_gradient:<test cell>", True, "tests",
     "The gradients were computed by finite differences instead of backpropagation; the "
     "exercise asks for the analytic gradient, so the cell failed.",
     "梯度是用有限差分算出来的，而不是反向传播；练习要求解析梯度，因此该单元格未通过。"),
    # -- limits ------------------------------------------------------------------------
    ("timeout:<test cell|loading>", True, "limits",
     "A test cell (or loading the notebook) ran over its time limit (`cell_seconds`, "
     "`load_seconds` in grading.toml) and was stopped; it scored 0.",
     "测试单元格（或加载 notebook）超过了时间限制（grading.toml 中的 `cell_seconds`、`load_seconds`），"
     "被停止，得 0 分。"),
    ("time_budget[:<test cell|loading>]", True, "limits",
     "The notebook used up its whole time budget (`notebook_seconds`); the cells not run "
     "by then scored 0.",
     "notebook 用完了全部时间预算（`notebook_seconds`）；此后未运行的单元格得 0 分。"),
    ("slow:<seconds>s", True, "limits",
     "The notebook used more than half of its time budget; honest notebooks use a few "
     "percent. Look at what took the time.",
     "notebook 用掉了一半以上的时间预算；正常的 notebook 只用百分之几。请查看是什么占用了时间。"),
    ("memory:<test cell|loading>", True, "limits",
     "The sandbox went over its memory limit (`memory_mb`) and was stopped; that cell "
     "scored 0.",
     "沙箱超过了内存限制（`memory_mb`），被停止；该单元格得 0 分。"),
    ("processes:<test cell|loading>", True, "limits",
     "The student's code started more processes than allowed (`processes`); stopped, 0 "
     "for that cell.",
     "学生代码启动的进程数超过了限制（`processes`）；已停止，该单元格得 0 分。"),
    ("crashed:<test cell|loading>", True, "limits",
     "The sandbox process died (`os._exit`, a crash, a signal); that cell scored 0.",
     "沙箱进程终止了（`os._exit`、崩溃或信号）；该单元格得 0 分。"),
    ("protocol:<test cell|loading>", True, "limits",
     "The sandbox answered the grader with something it should not (tampering with the "
     "channel); stopped, 0 for that cell.",
     "沙箱返回给评分程序的内容不合规（篡改通信通道）；已停止，该单元格得 0 分。"),
    # -- what the student's code tried in the sandbox ------------------------------------
    ("blocked_import:<module>", True, "sandbox",
     "Graded code imported a library this exercise forbids (torch in a from-scratch "
     "exercise, …); the import failed.",
     "评分代码导入了本练习禁止使用的库（例如从零实现的练习中导入 torch）；导入失败。"),
    ("grader_internals:<module>", True, "sandbox",
     "The code tried to import the grader's own modules (tests, references); they are not "
     "in the sandbox.",
     "代码试图导入评分程序自己的模块（测试、参考实现）；沙箱中没有这些模块。"),
    ("file:<path>", True, "sandbox",
     "The code opened a path outside its own folders (`file:+N more` counts the rest).",
     "代码打开了自身目录之外的路径（`file:+N more` 表示另外还有 N 个）。"),
    ("process:<event>", True, "sandbox",
     "The code tried to start a program (subprocess, os.system, exec).",
     "代码试图启动程序（subprocess、os.system、exec）。"),
    ("network", True, "sandbox",
     "The code tried to use the network (there is none in the sandbox).",
     "代码试图使用网络（沙箱中没有网络）。"),
    ("signal", True, "sandbox",
     "The code tried to send a signal to a process.",
     "代码试图向进程发送信号。"),
    ("sqlite", True, "sandbox",
     "The code opened an SQLite database (a gradebook is one).",
     "代码打开了 SQLite 数据库（成绩册就是一个）。"),
    ("audit_hook", True, "sandbox",
     "The code installed a Python audit hook.",
     "代码安装了 Python 审计钩子（audit hook）。"),
    ("shell_command", True, "sandbox",
     "The code ran a shell command (`!…`, `%%bash`); it was not run.",
     "代码运行了 shell 命令（`!…`、`%%bash`）；没有执行。"),
    ("ipython_hook:<name>", True, "sandbox",
     "The code reached into IPython (an input transformer or event could rewrite later "
     "cells); refused.",
     "代码试图操作 IPython（输入转换器或事件可以改写后面的单元格）；已拒绝。"),
    ("redefined_check:<name>", True, "sandbox",
     "The code redefined a check function; the instructor's checks ran anyway, outside the "
     "sandbox.",
     "代码重新定义了检查函数；教师的检查仍在沙箱之外照常运行。"),
    ("patched_grader:<name>", True, "sandbox",
     "The code changed an attribute of a module the checks use (NumPy, the check helpers); "
     "the checks ran outside the sandbox anyway.",
     "代码改动了检查所用模块（NumPy、检查辅助函数）的属性；检查仍在沙箱之外照常运行。"),
    # -- the grader itself ---------------------------------------------------------------
    ("unsandboxed", False, "grader",
     "Graded without bubblewrap (resource limits only): the student's code could read "
     "every file the grader can. The run says so; install bubblewrap.",
     "评分时没有 bubblewrap（只有资源限制）：学生代码可以读取评分程序能读取的所有文件。"
     "运行时会提示；请安装 bubblewrap。"),
    ("pages_failed", True, "grader",
     "The grader could not write this submission's feedback page or formgrader's copy (the "
     "terminal said why); the score stands. Run the grade again with --force for the "
     "pages, or tell the course's maintainers.",
     "评分程序无法写出这份提交的反馈页面或 formgrader 的副本（终端里说明了原因）；分数不受影响。"
     "请用 --force 重新评分以生成页面，或告知课程维护者。"),
    ("gradebook_failed", True, "grader",
     "The row could not be written to the gradebook; the next run grades it again.",
     "这一行没能写入成绩册；下次运行时会重新评分。"),
])


def _statuses(rows: list[tuple[str, str, str]]) -> dict[str, str]:
    for name, english, chinese in rows:
        M.register({f"status_{name}": (english, chinese)})
    return {name: name for name, _, _ in rows}


STATUSES: dict[str, str] = _statuses([
    ("ok", "Graded: the score is what the tests gave.",
     "已评分：分数就是测试给出的分数。"),
    ("blank", "Nothing filled in: every solution cell still raises NotImplementedError; 0.",
     "什么都没填写：每个解答单元格仍然抛出 NotImplementedError；0 分。"),
    ("empty", "Nothing gradable was handed in (an empty folder, only a PDF, or every file "
     "refused: see the flags); 0.",
     "没有交可评分的内容（空文件夹、只有 PDF，或所有文件都被拒绝：见标记）；0 分。"),
    ("too_large", "The notebook is larger than a notebook may be (size, cells or code); not "
     "graded, 0. The reason says how to fix it.",
     "notebook 超过了允许的大小（文件大小、单元格数或代码量）；未评分，0 分。原因中写明了如何解决。"),
    ("unreadable", "The file is not a readable notebook (cut off, corrupt, empty, not a "
     "notebook); 0.",
     "文件不是可读取的 notebook（被截断、损坏、空文件或不是 notebook）；0 分。"),
    ("wrong_assignment", "The notebook of another assignment was handed in; 0.",
     "交的是另一份作业的 notebook；0 分。"),
    ("missing", "One notebook of a several-notebook assignment was not handed in; its cells "
     "score 0.",
     "多 notebook 作业中缺交了一个 notebook；其中的单元格得 0 分。"),
    ("error", "The grader failed (not the student's doing): the score is not a grade. Grade "
     "again; report.json has the details. Left empty in the totals and LMS files.",
     "评分程序出错（不是学生造成的）：这个分数不是成绩。请重新评分；详情见 report.json。"
     "在总分表和 LMS 文件中留空。"),
    ("timeout", "Loading the notebook (its setup and solution cells) ran over `load_seconds`; "
     "0.",
     "加载 notebook（其 setup 与解答单元格）超过了 `load_seconds`；0 分。"),
    ("time_budget", "Loading the notebook used up its whole time budget; 0.",
     "加载 notebook 用完了全部时间预算；0 分。"),
    ("memory", "Loading the notebook went over the memory limit; 0.",
     "加载 notebook 时超过了内存限制；0 分。"),
    ("processes", "Loading the notebook started too many processes; 0.",
     "加载 notebook 时启动了过多进程；0 分。"),
    ("crashed", "The sandbox died while the notebook was loading; 0.",
     "加载 notebook 时沙箱终止了；0 分。"),
    ("protocol", "The sandbox broke the protocol while the notebook was loading; 0.",
     "加载 notebook 时沙箱违反了通信协议；0 分。"),
])


def flag_name(flag: str) -> str:
    """The table key of a flag: ``renamed:hw1.ipynb`` → ``renamed``."""
    return flag.split(":", 1)[0]


def describe_flag(flag: str) -> M.Text | None:
    """What ``flag`` means for the instructor, or None when the table does not know it."""
    name = flag_name(flag)
    return M.text(f"flag_{name}") if name in FLAGS else None


def needs_attention(flag: str) -> bool:
    """Whether the summary lists it under "needs your eyes" (an unknown flag does)."""
    entry = FLAGS.get(flag_name(flag))
    return entry is None or entry.attention


def markdown_table(language: str = "en") -> str:
    """The README's table: every flag, then every status, with its meaning."""
    zh = language == "zh"
    head = ("| 标记或状态 | 需要查看 | 含义 |" if zh else "| flag or status | look? | meaning |")
    lines = [head, "| --- | --- | --- |"]
    for flag in FLAGS.values():
        meaning = M.text(f"flag_{flag.name}")
        mark = ("是" if zh else "yes") if flag.attention else ""
        lines.append(f"| `{flag.form}` | {mark} | {meaning.zh if zh else meaning.en} |")
    for status in STATUSES:
        meaning = M.text(f"status_{status}")
        label = f"状态 `{status}`" if zh else f"status `{status}`"
        lines.append(f"| {label} | | {meaning.zh if zh else meaning.en} |")
    return "\n".join(lines)


def help_text() -> str:
    """The same table for ``--help``: a line per flag and status, English (the README has
    both languages); ``grader.cli`` fills the lines to the terminal's width."""
    lines = ["Flags on a row (! = needs your eyes; the README has this table in Chinese too):"]
    for flag in FLAGS.values():
        lines.append(f"{'!' if flag.attention else ' '} {flag.form}: {M.en(f'flag_{flag.name}')}")
    lines.append("Statuses:")
    lines += [f"  {status}: {M.en(f'status_{status}')}" for status in STATUSES]
    return "\n".join(lines)
