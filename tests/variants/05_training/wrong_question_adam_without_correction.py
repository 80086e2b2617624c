# variant: wrong
# what: Question 5.2 answered with Adam's first step as if there were no bias correction
# assignment: 05_training
# zero: test_answer_q5_2
# message: without bias correction, 没有偏差修正
# ruff: noqa: F821, E402
# %% id=answer_q5_2
answer_q5_2 = 0.1 / np.sqrt(0.001)
