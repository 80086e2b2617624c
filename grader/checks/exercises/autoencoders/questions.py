"""The auto-graded questions of assignment 06 · 作业 06 的自动评分问答题.

Each keeps salted digests of its accepted answers and of known wrong ones (see
:mod:`grader.checks.questions`); the hints are in :mod:`.messages`.
"""

from __future__ import annotations

from grader.checks.exercises import register
from grader.checks.exercises.autoencoders.common import ASSIGNMENT
from grader.checks.questions import Question

register(Question(
    id="q6_1", title_en="Question 6.1 · a linear autoencoder and PCA",
    title_zh="问题 6.1 · 线性自编码器与 PCA", assignment=ASSIGNMENT, kind="choice",
    choices="abcd",
    answers=("b158de59989abda7d449a0bf63bc9537302280ebfc9cc351f2b6b7200113827c",),
    hints={"68c69006ad7ab73a8ca2c8e0245442f158871521db4f337ba68eee9d159034d0": "q6_1_equal",
           "53da0cc88c88a7485906de9da5177d0628b9446d1f32c29cd6cc413ecb8995ce": "q6_1_rotation",
           "9e018ab2f33bf095d35300f843d02a682a90461d758e7a108e8e1c9724b0f843": "q6_1_other"}))

register(Question(
    id="q6_2", title_en="Question 6.2 · how many units stay on",
    title_zh="问题 6.2 · 有多少单元保持活跃", assignment=ASSIGNMENT, kind="choice",
    choices="abcd",
    answers=("02315b03ee79954a1abe247317293b94c15fe2a98ee06de102bc52726ad9e76b",),
    hints={"2d0a3868a60d87e904ba0809c194e1cdb14c8369d776b3d7cb2c08156ac56895": "q6_2_all",
           "5f9fc7e84536711379826434fa949ac25443f96ae46506318b5bc3cced0b4472": "q6_2_half",
           "54836524789b09c21075ed8be8b7a5cdab7b663ac2b636a5f2e483cac865b1b1": "q6_2_none"}))

register(Question(
    id="q6_3", title_en="Question 6.3 · the KL of one code",
    title_zh="问题 6.3 · 一个编码的 KL", assignment=ASSIGNMENT, kind="number",
    answers=("f9e82a4e7c6967661c0725bbec71dbb049109d7fe0d7f1a9119031294e127efc",),
    hints={"f5798384144822c4492a20f4b2061b0ef083526c4102410d76c493631423167e": "q6_3_half",
           "5519db87b62911bc01ce436265c276c3fae4f85732c6548e39ff01f54b9452b0": "q6_3_sign",
           "37832df9739307929d40b80be185917ee6b1ae45a71cd9ceaf7b67fe57b61688": "q6_3_zero",
           "99f68c4275b5a98d74570a978b7d00fc3840617ccf09802d912a7fd5e16fd291": "q6_3_one"}))
