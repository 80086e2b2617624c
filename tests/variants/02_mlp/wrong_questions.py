# variant: wrong
# what: the questions answered wrong: the shape of W2 instead of layer 2's output, and the
#   probability before the logits were scaled
# assignment: 02_mlp
# zero: test_answer_q2_1, test_answer_q2_2
# message: not the right answer, 答案不正确
# %% id=answer_q2_1
answer_q2_1 = (128, 64)
# %% id=answer_q2_2
answer_q2_2 = 0.665
