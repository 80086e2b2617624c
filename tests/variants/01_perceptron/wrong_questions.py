# variant: wrong
# what: a score of 0 taken as right because perceptron_predict says +1 there (Question 1.1,
#   "a"), and the bound not squared (Question 1.2, R/gamma = 20)
# assignment: 01_perceptron
# zero: test_answer_q1_1, test_answer_q1_2
# message: not the right answer, 答案不正确
# %% id=answer_q1_1
answer_q1_1 = "a"
# %% id=answer_q1_2
answer_q1_2 = 20
